CREATE TABLE `mail_log` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text,
	`to` text NOT NULL,
	`subject` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`provider_message_id` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `mail_log_tenant_idx` ON `mail_log` (`tenant_id`,`created_at`);