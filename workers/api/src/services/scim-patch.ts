import { z } from "zod";
import type { ScimGroupState } from "./scim-groups";
import { ScimError, type ScimUserState } from "./scim-users";

// Bodies are read leniently, as IdPs send them: unknown attributes (enterprise extension,
// phoneNumbers…) are ignored, the ones we keep are checked.
const NameSchema = z
  .object({
    givenName: z.string().max(200).nullish(),
    familyName: z.string().max(200).nullish(),
  })
  .passthrough();

const EmailSchema = z.string().trim().toLowerCase().pipe(z.email()).pipe(z.string().max(254));

const UserBodySchema = z
  .object({
    userName: EmailSchema,
    externalId: z.string().max(200).nullish(),
    name: NameSchema.nullish(),
    displayName: z.string().max(200).nullish(),
    active: z.boolean().optional(),
  })
  .passthrough();

function invalid(detail: string): never {
  throw new ScimError(400, "invalidValue", detail);
}

/** A POST or PUT body: the whole user (absent optional attributes are cleared, per PUT). */
export function parseUserBody(body: unknown): ScimUserState {
  const parsed = UserBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    invalid(
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"} (userName must be an email).`,
    );
  }
  const b = parsed.data;
  return {
    userName: b.userName,
    externalId: b.externalId ?? null,
    givenName: b.name?.givenName ?? null,
    familyName: b.name?.familyName ?? null,
    displayName: b.displayName ?? null,
    active: b.active ?? true,
  };
}

const PatchSchema = z.object({
  schemas: z.array(z.string()).optional(),
  Operations: z
    .array(
      z.object({
        op: z.string().transform((s) => s.toLowerCase()),
        path: z.string().optional(),
        value: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(50),
});

/** Entra sends booleans as the strings "True"/"False". */
function bool(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value))
    return value.toLowerCase() === "true";
  return invalid("active must be a boolean.");
}

const text = (value: unknown, what: string): string | null => {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" || value.length > 200) return invalid(`${what} must be a string.`);
  return value;
};

/** Sets one attribute by its path (case-insensitive, RFC 7643 §2.1); `remove` passes null. */
function setPath(state: ScimUserState, path: string, value: unknown, remove: boolean) {
  switch (path.toLowerCase()) {
    case "active":
      if (remove) invalid("active cannot be removed.");
      state.active = bool(value);
      return;
    case "externalid":
      state.externalId = remove ? null : text(value, "externalId");
      return;
    case "displayname":
      state.displayName = remove ? null : text(value, "displayName");
      return;
    case "name.givenname":
      state.givenName = remove ? null : text(value, "name.givenName");
      return;
    case "name.familyname":
      state.familyName = remove ? null : text(value, "name.familyName");
      return;
    case "name": {
      const name = remove
        ? {}
        : (NameSchema.safeParse(value).data ?? invalid("name must be an object."));
      state.givenName = name.givenName ?? null;
      state.familyName = name.familyName ?? null;
      return;
    }
    case "username":
      if (remove) invalid("userName cannot be removed.");
      state.userName = EmailSchema.safeParse(value).data ?? invalid("userName must be an email.");
      return;
    default:
      // The primary email is the userName; other email entries and attributes we do not keep
      // (phone numbers, the enterprise extension) are accepted and ignored, as IdPs expect.
      if (/^emails(\[.*\])?(\.value)?$/i.test(path) && !remove) {
        const email = Array.isArray(value) ? (value[0] as { value?: unknown })?.value : value;
        if (typeof email === "string" && email.toLowerCase() !== state.userName) {
          invalid("The primary email is the userName and cannot change.");
        }
      }
  }
}

/**
 * Applies RFC 7644 §3.5.2 operations (add, replace, remove) to a user, including the shape
 * Okta and Entra send without a path: `{"op":"replace","value":{"active":false}}`.
 */
export function applyPatch(body: unknown, current: ScimUserState): ScimUserState {
  const parsed = PatchSchema.safeParse(body);
  if (!parsed.success) invalid("A PATCH body needs Operations: [{ op, path?, value? }].");
  const state = { ...current };
  for (const op of parsed.data.Operations) {
    if (op.op !== "add" && op.op !== "replace" && op.op !== "remove") {
      throw new ScimError(400, "invalidSyntax", `Unknown operation ${op.op}.`);
    }
    const remove = op.op === "remove";
    if (op.path) {
      setPath(state, op.path, op.value, remove);
    } else if (remove) {
      throw new ScimError(400, "noTarget", "remove needs a path.");
    } else if (op.value && typeof op.value === "object" && !Array.isArray(op.value)) {
      for (const [key, value] of Object.entries(op.value)) {
        // Entra nests paths as keys: {"name.givenName": "Ada"}; Okta sends {"active": false}.
        if (key === "name" && value && typeof value === "object") {
          for (const [k, v] of Object.entries(value)) setPath(state, `name.${k}`, v, false);
        } else setPath(state, key, value, false);
      }
    } else {
      invalid("An operation without a path needs an object value.");
    }
  }
  return state;
}

const MemberRefsSchema = z.array(z.object({ value: z.string().max(64) }).passthrough()).max(1000);

const GroupBodySchema = z
  .object({
    displayName: z.string().trim().min(1).max(200),
    externalId: z.string().max(200).nullish(),
    members: MemberRefsSchema.nullish(),
  })
  .passthrough();

/** A group's POST or PUT body. */
export function parseGroupBody(body: unknown): ScimGroupState {
  const parsed = GroupBodySchema.safeParse(body);
  if (!parsed.success) invalid("A group needs a displayName; members are [{ value: <user id> }].");
  return {
    displayName: parsed.data.displayName,
    externalId: parsed.data.externalId ?? null,
    memberIds: (parsed.data.members ?? []).map((m) => m.value),
  };
}

function memberRefs(value: unknown): string[] {
  const parsed = MemberRefsSchema.safeParse(value);
  if (!parsed.success) invalid("members must be [{ value: <user id> }].");
  return parsed.data.map((m) => m.value);
}

/**
 * Group PATCH as Okta and Entra send it: members added or removed by value list, one member
 * removed by a `members[value eq "…"]` path, the name replaced with or without a path.
 */
export function applyGroupPatch(body: unknown, current: ScimGroupState): ScimGroupState {
  const parsed = PatchSchema.safeParse(body);
  if (!parsed.success) invalid("A PATCH body needs Operations: [{ op, path?, value? }].");
  const state = { ...current, memberIds: [...current.memberIds] };
  for (const { op, path, value } of parsed.data.Operations) {
    const p = path?.trim().toLowerCase();
    const one = path?.match(/^members\[value eq "([^"]+)"\]$/i)?.[1];
    if (op === "remove" && one) {
      state.memberIds = state.memberIds.filter((id) => id !== one);
    } else if (p === "members" && op === "remove") {
      const gone = value === undefined ? state.memberIds : memberRefs(value);
      state.memberIds = state.memberIds.filter((id) => !gone.includes(id));
    } else if (p === "members" && op === "add") {
      state.memberIds = [...new Set([...state.memberIds, ...memberRefs(value)])];
    } else if (p === "members" && op === "replace") {
      state.memberIds = memberRefs(value);
    } else if ((p === "displayname" || p === "externalid") && op !== "remove") {
      const v = text(value, path ?? "");
      if (p === "displayname") state.displayName = v ?? invalid("displayName is required.");
      else state.externalId = v;
    } else if (p === undefined && op !== "remove" && value && typeof value === "object") {
      const v = value as Record<string, unknown>;
      if (typeof v.displayName === "string") state.displayName = v.displayName;
      if (v.members !== undefined) {
        state.memberIds = [...new Set([...state.memberIds, ...memberRefs(v.members)])];
      }
    } else {
      throw new ScimError(400, "invalidPath", `Unsupported group operation ${op} ${path ?? ""}.`);
    }
  }
  return state;
}
