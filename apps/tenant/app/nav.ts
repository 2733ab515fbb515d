/** The signed-in pages' navigation, in the order the header shows it. */
export const NAV: { to: string; label: string }[] = [
  { to: "/", label: "Dashboard" },
  { to: "/projects", label: "Projects" },
  { to: "/members", label: "Members" },
  { to: "/api-keys", label: "API keys" },
  { to: "/billing", label: "Billing" },
  { to: "/usage", label: "Usage" },
  { to: "/audit-log", label: "Audit log" },
  { to: "/settings", label: "Settings" },
  { to: "/account/security", label: "Security" },
];
