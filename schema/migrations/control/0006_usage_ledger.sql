CREATE TABLE `usage_ledger` (
	`key` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`metric` text NOT NULL,
	`window_start` integer NOT NULL,
	`seq` integer NOT NULL,
	`delta` integer NOT NULL,
	`billable` integer NOT NULL,
	`created_at` integer NOT NULL,
	`reported_at` integer
);
--> statement-breakpoint
CREATE INDEX `usage_ledger_tenant_metric_idx` ON `usage_ledger` (`tenant_id`,`metric`,`window_start`);