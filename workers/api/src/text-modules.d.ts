// Files that wrangler.toml's `rules` load as text: the default export is the file's content.
declare module "*/@scalar/api-reference/dist/browser/standalone.js" {
  const text: string;
  export default text;
}
