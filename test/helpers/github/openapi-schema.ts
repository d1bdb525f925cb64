/**
 * Turns one OpenAPI 3.0 schema from GitHub's description into a self-contained JSON Schema for
 * ajv: `#/components/schemas/x` refs become local `#/definitions/x` (only those reachable, so
 * compiling stays per operation), and `nullable` becomes a JSON Schema type
 * (https://spec.openapis.org/oas/v3.0.3#fixed-fields-19). ajv rejects a bare `nullable` without
 * `type`, which GitHub's description uses with `allOf`/`oneOf`/`anyOf`.
 *
 * Closing objects: GitHub declares request bodies without `additionalProperties: false` and ignores
 * fields it does not know, so a misspelled optional field (`conclsuion`) would pass unnoticed while
 * the app silently does less than intended. With `closeObjects`, every object schema that lists its
 * `properties` is closed, except where JSON Schema composition makes that wrong: an `allOf` member
 * sees only its own properties, and a `oneOf`/`anyOf` beside `properties` splits one object's
 * fields across schemas. Closed-by-us nodes carry CLOSED_BY_VALIDATOR so errors can tell the cases apart.
 */
import type { ErrorObject } from 'ajv';
import { componentName, type JsonObject, type OpenApiDocument } from './openapi-spec.ts';

export const CLOSED_BY_VALIDATOR = 'x-closed-by-test-validator';

export interface SchemaBuildOptions {
  closeObjects: boolean;
}

export function buildJsonSchema(document: OpenApiDocument, root: JsonObject, options: SchemaBuildOptions): JsonObject {
  const definitions: Record<string, JsonObject> = {};

  function definitionRef(ref: string, closed: boolean): JsonObject {
    const name = componentName(ref, 'schemas');
    const key = closed || !options.closeObjects ? name : `${name}__open`;
    if (!(key in definitions)) {
      const target = document.components.schemas[name];
      if (target === undefined) throw new Error(`unresolvable schema ${ref}`);
      definitions[key] = {}; // placeholder first: component schemas are recursive (e.g. file trees)
      definitions[key] = transform(target, closed);
    }
    return { $ref: `#/definitions/${key}` };
  }

  function transform(node: JsonObject, closed: boolean): JsonObject {
    if (typeof node.$ref === 'string') return definitionRef(node.$ref, closed);
    const out: JsonObject = { ...node };
    const hasProperties = isObject(node.properties);
    if (hasProperties) out.properties = mapValues(node.properties as Record<string, JsonObject>, (s) => transform(s, true));
    if (isObject(node.patternProperties)) {
      out.patternProperties = mapValues(node.patternProperties as Record<string, JsonObject>, (s) => transform(s, true));
    }
    if (isObject(node.additionalProperties)) out.additionalProperties = transform(node.additionalProperties, true);
    if (Array.isArray(node.items)) out.items = node.items.map((s: JsonObject) => transform(s, true));
    else if (isObject(node.items)) out.items = transform(node.items, true);
    if (Array.isArray(node.allOf)) out.allOf = node.allOf.map((s: JsonObject) => transform(s, false));
    for (const keyword of ['anyOf', 'oneOf'] as const) {
      const members = node[keyword];
      if (Array.isArray(members)) out[keyword] = members.map((s: JsonObject) => transform(s, closed && !hasProperties));
    }
    if (isObject(node.not)) out.not = transform(node.not, false);

    const composed = node.allOf !== undefined || node.anyOf !== undefined || node.oneOf !== undefined;
    if (options.closeObjects && closed && hasProperties && !('additionalProperties' in node) && !('patternProperties' in node) && !composed) {
      out.additionalProperties = false;
      out[CLOSED_BY_VALIDATOR] = true;
    }
    return applyNullable(out);
  }

  const body = transform(root, true);
  return { definitions, allOf: [body] };
}

/** OpenAPI 3.0 `nullable: true` → JSON Schema: add `null` to `type` (and `enum`), or wrap in anyOf. */
function applyNullable(node: JsonObject): JsonObject {
  const nullable = node.nullable === true;
  delete node.nullable;
  if (!nullable) return node;
  if (typeof node.type === 'string' || Array.isArray(node.type)) {
    node.type = [...new Set([...(Array.isArray(node.type) ? node.type : [node.type]), 'null'])];
    if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum = [...node.enum, null];
    return node;
  }
  const { description, ...rest } = node;
  if (Object.keys(rest).length === 0) return node; // `{ nullable: true }` alone already allows anything
  return { ...(description === undefined ? {} : { description }), anyOf: [rest, { type: 'null' }] };
}

/** One readable line per ajv error, e.g. `request body field output.title must be string (got number 3)`. */
export function describeSchemaErrors(errors: ErrorObject[], where: string): string[] {
  const lines = errors.map((error) => describeSchemaError(error, where));
  return [...new Set(lines)];
}

function describeSchemaError(error: ErrorObject, where: string): string {
  const field = fieldName(error.instancePath);
  const at = field === '' ? where : `${where} field ${field}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${where}: missing required field "${joinField(field, String(params.missingProperty))}"`;
    case 'additionalProperties': {
      const name = joinField(field, String(params.additionalProperty));
      const parent = (error.parentSchema ?? {}) as JsonObject;
      const known = isObject(parent.properties) ? Object.keys(parent.properties) : [];
      const guess = closestName(String(params.additionalProperty), known);
      const hint = guess === undefined ? '' : ` (did you mean "${joinField(field, guess)}"?)`;
      const why =
        parent[CLOSED_BY_VALIDATOR] === true
          ? "GitHub's schema does not list it, so GitHub would ignore it"
          : "GitHub's schema forbids additional properties here";
      return `${where}: unknown field "${name}"${hint}: ${why}`;
    }
    case 'enum':
      return `${at} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${preview(error.data)})`;
    case 'type':
      return `${at} must be ${String(params.type)} (got ${preview(error.data)})`;
    default:
      return `${at} ${error.message ?? 'is invalid'} (got ${preview(error.data)})`;
  }
}

/** `/output/annotations/0/path` → `output.annotations[0].path`. */
function fieldName(instancePath: string): string {
  if (instancePath === '') return '';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
}

function joinField(parent: string, child: string): string {
  return parent === '' ? child : `${parent}.${child}`;
}

function preview(value: unknown): string {
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text = JSON.stringify(value) ?? String(value);
  return kind === 'object' || kind === 'array' ? kind : `${kind} ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

/** The known name within edit distance 2 of a misspelling, if exactly one is that close. */
function closestName(name: string, known: string[]): string | undefined {
  const close = known.filter((candidate) => editDistance(name, candidate) <= 2);
  return close.length === 1 ? close[0] : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}
