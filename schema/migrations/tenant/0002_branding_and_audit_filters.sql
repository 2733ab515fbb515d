CREATE TABLE `branding` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`accent_color` text,
	`logo_type` text,
	`logo_size` integer,
	`logo_updated_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_action_idx` ON `audit_log` (`action`,`id`);--> statement-breakpoint
CREATE INDEX `audit_log_actor_idx` ON `audit_log` (`actor_type`,`actor_id`,`id`);