CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`customer_id` text,
	`tenant_id` text,
	`created_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`source` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error` text,
	`processed_at` integer
);
--> statement-breakpoint
CREATE INDEX `stripe_events_state_idx` ON `stripe_events` (`state`,`received_at`);--> statement-breakpoint
CREATE INDEX `stripe_events_customer_idx` ON `stripe_events` (`customer_id`);--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `recorded_state` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `pending_audit_id` text;