CREATE TABLE `saml_assertions` (
	`assertion_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `saml_assertions_tenant_idx` ON `saml_assertions` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `saml_assertions_expires_idx` ON `saml_assertions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `idp_entity_id` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `idp_sso_url` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `idp_certificates` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `metadata_url` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `metadata_fetched_at` integer;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `allow_idp_initiated` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `groups_attribute` text;--> statement-breakpoint
ALTER TABLE `sso_logins` ADD `saml_request_id` text;