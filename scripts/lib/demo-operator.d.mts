// Types of demo-operator.mjs, for the TypeScript that imports it (tests, end-to-end tests).
export const DEMO_OPERATOR: {
  id: string;
  email: string;
  name: string;
  role: "platform_admin";
  password: string;
  passwordHash: string;
  totpSecret: string;
};
export function demoOperatorCode(now?: number): string;
