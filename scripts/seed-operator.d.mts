// Types of seed-operator.mjs, for the TypeScript that imports it (end-to-end tests).
export function seedDemoOperator(opts?: { config?: string; persistTo?: string }): void;
