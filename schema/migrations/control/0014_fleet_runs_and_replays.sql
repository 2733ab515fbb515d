CREATE TABLE `fleet_run_tenants` (
	`run_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`wave` integer NOT NULL,
	`state` text NOT NULL,
	`from_version` integer NOT NULL,
	`to_version` integer,
	`error` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `tenant_id`)
);
--> statement-breakpoint
CREATE INDEX `fleet_run_tenants_wave_idx` ON `fleet_run_tenants` (`run_id`,`wave`,`state`);--> statement-breakpoint
CREATE TABLE `fleet_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`lock` text,
	`target_version` integer NOT NULL,
	`wave` integer NOT NULL,
	`first_wave` integer NOT NULL,
	`growth` integer NOT NULL,
	`max_failure_percent` integer NOT NULL,
	`cursor` text NOT NULL,
	`halt_reason` text,
	`started_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fleet_runs_lock_unique` ON `fleet_runs` (`lock`);--> statement-breakpoint
ALTER TABLE `stripe_events` ADD `replay_audit_id` text;--> statement-breakpoint
CREATE INDEX `stripe_events_received_idx` ON `stripe_events` (`received_at`,`id`);--> statement-breakpoint
CREATE INDEX `stripe_events_tenant_idx` ON `stripe_events` (`tenant_id`,`received_at`,`id`);