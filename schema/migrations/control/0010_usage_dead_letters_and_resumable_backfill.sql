ALTER TABLE `job_checkpoints` ADD `cursor` text;--> statement-breakpoint
ALTER TABLE `usage_ledger` ADD `period_start` integer;--> statement-breakpoint
ALTER TABLE `usage_ledger` ADD `dead_at` integer;--> statement-breakpoint
ALTER TABLE `usage_ledger` ADD `report_error` text;