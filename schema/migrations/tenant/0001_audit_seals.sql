CREATE TABLE `audit_seals` (
	`seq` integer PRIMARY KEY NOT NULL,
	`entry_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`chain_hash` text NOT NULL,
	`sealed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_seals_entry_id_unique` ON `audit_seals` (`entry_id`);--> statement-breakpoint
CREATE INDEX `audit_seals_tenant_idx` ON `audit_seals` (`tenant_id`);