CREATE TABLE `platform_audit_seals` (
	`seq` integer PRIMARY KEY NOT NULL,
	`entry_id` text NOT NULL,
	`chain_hash` text NOT NULL,
	`sealed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `platform_audit_seals_entry_id_unique` ON `platform_audit_seals` (`entry_id`);--> statement-breakpoint
CREATE TABLE `tenant_audit_checkpoints` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`head_hash` text NOT NULL,
	`signed_at` integer NOT NULL,
	`key_id` text NOT NULL,
	`signature` text NOT NULL,
	`checked_at` integer NOT NULL
);
