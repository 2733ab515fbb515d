ALTER TABLE `sessions` ADD `signed_in_with` text DEFAULT 'password' NOT NULL;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `role_mapping` text;