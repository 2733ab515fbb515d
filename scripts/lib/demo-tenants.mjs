/** The tenants `npm run dev` signs up, with their owners (README, Lighthouse run). */
export const DEMO_TENANTS = [
  { slug: "acme", name: "Acme Inc.", email: "owner@acme.example", password: "acme-demo-password" },
  {
    slug: "globex",
    name: "Globex Corporation",
    email: "owner@globex.example",
    password: "globex-demo-password",
  },
];
