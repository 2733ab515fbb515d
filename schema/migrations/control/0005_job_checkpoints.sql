CREATE TABLE `job_checkpoints` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL,
	`updated_at` integer NOT NULL
);
