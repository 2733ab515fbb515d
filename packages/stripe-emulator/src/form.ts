/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with bracket nesting
 * (`metadata[tenant_id]=x`, `items[0][price]=p`, `expand[]=customer`). Objects whose keys are
 * all indexes become arrays. The same decoder reads GET query strings.
 */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    return part;
  }
}

function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  for (const match of key.slice(open).matchAll(re)) segments.push(match[1] ?? "");
  return segments;
}

type Tree = { [key: string]: Tree | string };

function insert(root: Tree, segments: string[], value: string): void {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i] ?? "";
    if (FORBIDDEN.has(segment)) return;
    // `expand[]=a&expand[]=b` appends.
    if (segment === "") segment = String(Object.keys(node).length);
    if (i === segments.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (next === undefined || typeof next === "string") {
      const child: Tree = {};
      node[segment] = child;
      node = child;
    } else {
      node = next;
    }
  }
}

function normalize(node: Tree | string): FormValue {
  if (typeof node === "string") return node;
  const keys = Object.keys(node);
  const out: FormObject = {};
  for (const key of keys) out[key] = normalize(node[key] as Tree | string);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => out[String(k)] as FormValue);
  }
  return out;
}

export function parseForm(text: string): FormObject {
  const root: Tree = {};
  if (text) {
    for (const pair of text.split("&")) {
      if (!pair) continue;
      const eq = pair.indexOf("=");
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
      const key = decode(rawKey);
      if (!key) continue;
      insert(root, splitKey(key), decode(rawValue));
    }
  }
  const result = normalize(root);
  return Array.isArray(result) || typeof result === "string" ? {} : result;
}

/** Canonical JSON (sorted keys) used to compare the parameters of idempotent requests. */
export function canonicalJson(value: FormValue | undefined): string {
  if (value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}
