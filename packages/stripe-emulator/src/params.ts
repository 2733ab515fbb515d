import { invalidParam, missingParam } from "./errors.js";
import type { FormObject, FormValue } from "./form.js";

/**
 * Typed access to decoded form parameters. Every reader throws Stripe's own 400 shape with
 * the full bracketed parameter name (`items[0][price]`) so the SDK surfaces `err.param`.
 */
export class Params {
  readonly raw: FormObject;
  private readonly prefix: string;

  constructor(raw: FormObject, prefix = "") {
    this.raw = raw;
    this.prefix = prefix;
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** True when the caller sent `key=` (Stripe's way of unsetting a field). */
  isEmpty(key: string): boolean {
    return this.raw[key] === "";
  }

  str(key: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") {
      throw invalidParam(this.name(key), `Invalid string: ${JSON.stringify(value)}`);
    }
    return value;
  }

  reqStr(key: string): string {
    const value = this.str(key);
    if (value === undefined || value === "") throw missingParam(this.name(key));
    return value;
  }

  /** A string, with `""` meaning "unset" (→ null). */
  nullableStr(key: string): string | null | undefined {
    const value = this.str(key);
    if (value === "") return null;
    return value;
  }

  int(key: string): number | undefined {
    const value = this.str(key);
    if (value === undefined || value === "") return undefined;
    if (!/^-?\d+$/.test(value)) {
      throw invalidParam(this.name(key), `Invalid integer: ${value}`, "parameter_invalid_integer");
    }
    return Number(value);
  }

  reqInt(key: string): number {
    const value = this.int(key);
    if (value === undefined) throw missingParam(this.name(key));
    return value;
  }

  bool(key: string): boolean | undefined {
    const value = this.str(key);
    if (value === undefined || value === "") return undefined;
    if (value === "true") return true;
    if (value === "false") return false;
    throw invalidParam(this.name(key), `Invalid boolean: ${value}`);
  }

  enumOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.str(key);
    if (value === undefined || value === "") return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw invalidParam(
        this.name(key),
        `Invalid ${this.name(key)}: must be one of ${allowed.join(", ")}`,
      );
    }
    return value as T;
  }

  obj(key: string): Params | undefined {
    const value = this.raw[key];
    if (value === undefined || value === "") return undefined;
    if (typeof value === "string" || Array.isArray(value)) {
      throw invalidParam(this.name(key), `Invalid object: ${this.name(key)}`);
    }
    return new Params(value, this.name(key));
  }

  /** Arrays of objects (`items[0][price]`); a single object is not accepted. */
  objects(key: string): Params[] | undefined {
    const value = this.raw[key];
    if (value === undefined || value === "") return undefined;
    if (!Array.isArray(value)) {
      throw invalidParam(this.name(key), `Invalid array: ${this.name(key)}`);
    }
    return value.map((entry, i) => {
      if (typeof entry === "string" || Array.isArray(entry)) {
        throw invalidParam(`${this.name(key)}[${i}]`, `Invalid object: ${this.name(key)}[${i}]`);
      }
      return new Params(entry, `${this.name(key)}[${i}]`);
    });
  }

  strings(key: string): string[] | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (value === "") return [];
    const list: FormValue[] = Array.isArray(value) ? value : [value];
    return list.map((entry, i) => {
      if (typeof entry !== "string") {
        throw invalidParam(`${this.name(key)}[${i}]`, `Invalid string: ${JSON.stringify(entry)}`);
      }
      return entry;
    });
  }

  /**
   * Metadata as Stripe merges it: `metadata[k]=` deletes `k`, `metadata=` clears all
   * (https://docs.stripe.com/api/metadata).
   */
  metadata(current: Record<string, string> = {}, key = "metadata"): Record<string, string> {
    const value = this.raw[key];
    if (value === undefined) return current;
    if (value === "") return {};
    if (typeof value === "string" || Array.isArray(value)) {
      throw invalidParam(this.name(key), `Invalid object: ${this.name(key)}`);
    }
    const next = { ...current };
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") {
        throw invalidParam(`${this.name(key)}[${k}]`, `Invalid string: ${JSON.stringify(v)}`);
      }
      if (v === "") delete next[k];
      else next[k] = v;
    }
    return next;
  }

  expand(): string[] {
    return this.strings("expand") ?? [];
  }
}
