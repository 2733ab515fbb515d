CREATE TABLE `sso_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`protocol` text NOT NULL,
	`name` text NOT NULL,
	`enabled` integer DEFAULT false NOT NULL,
	`enforced` integer DEFAULT false NOT NULL,
	`default_role` text NOT NULL,
	`issuer` text,
	`client_id` text,
	`client_secret_enc` text,
	`authorization_endpoint` text,
	`token_endpoint` text,
	`jwks_uri` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sso_connections_tenant_idx` ON `sso_connections` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `sso_domains` (
	`domain` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`verification_token` text NOT NULL,
	`verified_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sso_domains_tenant_idx` ON `sso_domains` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `sso_domains_connection_idx` ON `sso_domains` (`connection_id`);--> statement-breakpoint
CREATE TABLE `sso_logins` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`purpose` text DEFAULT 'sign_in' NOT NULL,
	`nonce` text NOT NULL,
	`code_verifier` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sso_logins_tenant_idx` ON `sso_logins` (`tenant_id`);