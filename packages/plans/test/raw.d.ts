// Vite's `?raw` imports (a file's text), used by the README check; the repo has no vite/client types.
declare module "*.md?raw" {
  const text: string;
  export default text;
}
