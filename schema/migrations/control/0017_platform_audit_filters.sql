DROP INDEX `platform_audit_log_tenant_idx`;--> statement-breakpoint
CREATE INDEX `platform_audit_log_actor_idx` ON `platform_audit_log` (`actor_id`,`id`);--> statement-breakpoint
CREATE INDEX `platform_audit_log_action_idx` ON `platform_audit_log` (`action`,`id`);--> statement-breakpoint
CREATE INDEX `platform_audit_log_tenant_idx` ON `platform_audit_log` (`tenant_id`,`id`);