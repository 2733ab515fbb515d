CREATE TABLE `mfa_factors` (
	`user_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`secret` text NOT NULL,
	`confirmed_at` integer,
	`last_step` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `mfa_factors_tenant_idx` ON `mfa_factors` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `mfa_recovery_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`code_hash` text NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mfa_recovery_codes_code_hash_unique` ON `mfa_recovery_codes` (`code_hash`);--> statement-breakpoint
CREATE INDEX `mfa_recovery_codes_tenant_idx` ON `mfa_recovery_codes` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `mfa_recovery_codes_user_idx` ON `mfa_recovery_codes` (`user_id`);--> statement-breakpoint
CREATE TABLE `security_settings` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`require_mfa` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `sessions` ADD `mfa_verified_at` integer;