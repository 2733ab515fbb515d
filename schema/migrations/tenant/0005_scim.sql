CREATE TABLE `scim_group_members` (
	`tenant_id` text NOT NULL,
	`group_id` text NOT NULL,
	`scim_user_id` text NOT NULL,
	PRIMARY KEY(`group_id`, `scim_user_id`)
);
--> statement-breakpoint
CREATE INDEX `scim_group_members_tenant_idx` ON `scim_group_members` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `scim_group_members_user_idx` ON `scim_group_members` (`scim_user_id`);--> statement-breakpoint
CREATE TABLE `scim_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`display_name` text NOT NULL,
	`external_id` text,
	`version` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scim_groups_display_name_unique` ON `scim_groups` (`display_name`);--> statement-breakpoint
CREATE INDEX `scim_groups_tenant_idx` ON `scim_groups` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `scim_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`start` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_by` text NOT NULL,
	`revoked_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scim_tokens_token_hash_unique` ON `scim_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `scim_tokens_tenant_idx` ON `scim_tokens` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `scim_users` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`user_name` text NOT NULL,
	`external_id` text,
	`given_name` text,
	`family_name` text,
	`display_name` text,
	`active` integer NOT NULL,
	`user_id` text NOT NULL,
	`member_id` text,
	`version` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scim_users_user_name_unique` ON `scim_users` (`user_name`);--> statement-breakpoint
CREATE INDEX `scim_users_tenant_idx` ON `scim_users` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `scim_users_external_idx` ON `scim_users` (`external_id`);