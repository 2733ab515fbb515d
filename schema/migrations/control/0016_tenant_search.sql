ALTER TABLE `tenants` ADD `access` text DEFAULT 'free_limits' NOT NULL;--> statement-breakpoint
CREATE INDEX `tenants_status_idx` ON `tenants` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `tenants_plan_idx` ON `tenants` (`plan`,`id`);--> statement-breakpoint
CREATE INDEX `tenants_access_idx` ON `tenants` (`access`,`id`);--> statement-breakpoint
CREATE INDEX `tenants_name_idx` ON `tenants` (lower("name"),`id`);--> statement-breakpoint
CREATE INDEX `tenants_owner_idx` ON `tenants` (`owner_user_id`,`id`);--> statement-breakpoint
-- Hand-written: drizzle-kit generates no data changes. Tenants that already have a billing state
-- take the access the billing sync last recorded (new rows get it from the sync itself).
UPDATE `tenants` SET `access` = (
  SELECT CASE
    WHEN json_extract(s.recorded_state, '$.access') = 'full'
      AND json_extract(s.recorded_state, '$.status') = 'past_due' THEN 'grace'
    ELSE json_extract(s.recorded_state, '$.access')
  END
  FROM `subscriptions` s WHERE s.tenant_id = `tenants`.`id`
) WHERE EXISTS (
  SELECT 1 FROM `subscriptions` s WHERE s.tenant_id = `tenants`.`id` AND s.recorded_state IS NOT NULL
);
