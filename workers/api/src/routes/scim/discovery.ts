// The SCIM discovery documents (RFC 7644 §4): minimal, but what Okta and Entra read.

const SCHEMA_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const SCHEMA_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

export function serviceProviderConfig(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    documentationUri: `${base}/docs`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: 100 },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "A SCIM token an owner creates with POST /v1/scim-tokens.",
        primary: true,
      },
    ],
    meta: {
      resourceType: "ServiceProviderConfig",
      location: `${base}/scim/v2/ServiceProviderConfig`,
    },
  };
}

export function userResourceType(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "A member of the tenant",
    schema: SCHEMA_USER,
    meta: { resourceType: "ResourceType", location: `${base}/scim/v2/ResourceTypes/User` },
  };
}

export function groupResourceType(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description:
      "A group; one named like a role (admin, billing, member, viewer) sets its members' role",
    schema: SCHEMA_GROUP,
    meta: { resourceType: "ResourceType", location: `${base}/scim/v2/ResourceTypes/Group` },
  };
}

const attr = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: "string",
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: "readWrite",
  returned: "default",
  uniqueness: "none",
  ...extra,
});

export function userSchema(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    id: SCHEMA_USER,
    name: "User",
    description: "A member of the tenant; userName is their email",
    attributes: [
      attr("userName", { required: true, uniqueness: "server", mutability: "immutable" }),
      attr("externalId", { caseExact: true }),
      {
        ...attr("name", { type: "complex" }),
        subAttributes: [
          attr("givenName"),
          attr("familyName"),
          attr("formatted", { mutability: "readOnly" }),
        ],
      },
      attr("displayName"),
      attr("active", { type: "boolean" }),
      {
        ...attr("emails", { type: "complex", multiValued: true, mutability: "readOnly" }),
        subAttributes: [attr("value"), attr("type"), attr("primary", { type: "boolean" })],
      },
    ],
    meta: { resourceType: "Schema", location: `${base}/scim/v2/Schemas/${SCHEMA_USER}` },
  };
}

export function groupSchema(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    id: SCHEMA_GROUP,
    name: "Group",
    description: "A group of provisioned users",
    attributes: [
      attr("displayName", { required: true, uniqueness: "server" }),
      attr("externalId", { caseExact: true }),
      {
        ...attr("members", { type: "complex", multiValued: true }),
        subAttributes: [
          attr("value", { mutability: "immutable" }),
          attr("$ref", { type: "reference" }),
        ],
      },
    ],
    meta: { resourceType: "Schema", location: `${base}/scim/v2/Schemas/${SCHEMA_GROUP}` },
  };
}

export function listResponse<T>(resources: T[], total: number, startIndex: number) {
  return {
    schemas: [LIST],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
