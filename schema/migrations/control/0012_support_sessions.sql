CREATE TABLE `support_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`operator_id` text NOT NULL,
	`operator_email` text NOT NULL,
	`user_id` text NOT NULL,
	`reason` text NOT NULL,
	`ticket_id` text,
	`mode` text NOT NULL,
	`status` text NOT NULL,
	`requested_at` integer NOT NULL,
	`approved_by` text,
	`started_at` integer,
	`expires_at` integer,
	`duration_minutes` integer NOT NULL,
	`ended_at` integer,
	`ended_by` text
);
--> statement-breakpoint
CREATE INDEX `support_sessions_tenant_idx` ON `support_sessions` (`tenant_id`,`status`);--> statement-breakpoint
CREATE INDEX `support_sessions_operator_idx` ON `support_sessions` (`operator_id`);