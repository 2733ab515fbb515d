ALTER TABLE `operators` ADD `setup_token_hash` text;--> statement-breakpoint
ALTER TABLE `operators` ADD `setup_expires_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `operators_setup_token_hash_unique` ON `operators` (`setup_token_hash`);