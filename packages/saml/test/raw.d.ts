// Vite's `?raw` imports (a file's text) for the interop fixtures; the repo has no vite/client types.
declare module "*?raw" {
  const text: string;
  export default text;
}
