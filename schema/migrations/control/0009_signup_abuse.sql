CREATE TABLE `platform_audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text NOT NULL,
	`action` text NOT NULL,
	`tenant_id` text,
	`target_type` text NOT NULL,
	`target_id` text NOT NULL,
	`reason` text,
	`before` text,
	`after` text,
	`request_id` text,
	`ip` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `platform_audit_log_tenant_idx` ON `platform_audit_log` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `platform_audit_log_created_idx` ON `platform_audit_log` (`created_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `reclaim_warned_at` integer;