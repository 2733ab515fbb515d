/**
 * The slice of `node:http` that `server.ts` uses. The root tsconfig targets workerd types only
 * (no @types/node), and only the standalone server touches Node APIs, so it declares what it
 * needs here instead of adding Node types to every package.
 */
declare module "node:http" {
  interface IncomingMessage extends AsyncIterable<Uint8Array> {
    method?: string;
    url?: string;
    headers: Record<string, string | string[] | undefined>;
  }
  interface ServerResponse {
    writeHead(status: number, headers?: Record<string, string>): this;
    end(chunk?: Uint8Array | string): this;
  }
  interface Server {
    listen(port: number, host: string, callback: () => void): this;
    address(): { port: number; address: string } | string | null;
    close(callback?: (error?: Error) => void): this;
    closeAllConnections(): void;
    on(event: "error", listener: (error: Error) => void): this;
  }
  function createServer(
    listener: (request: IncomingMessage, response: ServerResponse) => void,
  ): Server;

  export { createServer, type IncomingMessage, type Server, type ServerResponse };
}
