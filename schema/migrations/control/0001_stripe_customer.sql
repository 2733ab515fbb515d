ALTER TABLE `tenants` ADD `stripe_customer_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `tenants_stripe_customer_id_unique` ON `tenants` (`stripe_customer_id`);