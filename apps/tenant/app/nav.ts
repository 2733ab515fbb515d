/** The signed-in pages' navigation, in the order the header shows it. */
export const NAV: { to: string; label: string }[] = [
  { to: "/", label: "Dashboard" },
];
