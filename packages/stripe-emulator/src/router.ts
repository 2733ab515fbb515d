import type { Params } from "./params.js";
import type { EmulatorState } from "./state.js";

export interface ApiContext {
  state: EmulatorState;
  params: Params;
  path: Record<string, string>;
  /** Public origin used for hosted page URLs. */
  origin: string;
  /** Runs whatever a change made due right now (e.g. `trial_end=now` renews at once). */
  settle: () => void;
}

export type ApiHandler = (ctx: ApiContext) => object;

export interface Route {
  method: "GET" | "POST" | "DELETE";
  pattern: string;
  handler: ApiHandler;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(routes: Route[]): void {
    for (const route of routes) {
      const names: string[] = [];
      const source = route.pattern.replace(/:(\w+)/g, (_, name: string) => {
        names.push(name);
        return "([^/]+)";
      });
      this.routes.push({ ...route, regex: new RegExp(`^${source}$`), names });
    }
  }

  match(
    method: string,
    pathname: string,
  ): { handler: ApiHandler; path: Record<string, string>; route: string } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(pathname);
      if (!m) continue;
      const path: Record<string, string> = {};
      route.names.forEach((name, i) => {
        path[name] = decodeURIComponent(m[i + 1] ?? "");
      });
      return { handler: route.handler, path, route: `${route.method} ${route.pattern}` };
    }
    return undefined;
  }
}
