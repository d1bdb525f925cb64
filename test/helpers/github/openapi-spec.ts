/**
 * GitHub's published REST description (@octokit/openapi, OpenAPI 3.0.3), loaded once per process,
 * and the route table built from it: `{name}` matches one path segment, a parameter marked
 * `x-multi-segment` (a git ref, a file path) matches several.
 * https://github.com/github/rest-api-description
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type GitHubSpecName = 'api.github.com' | 'ghes-3.19';

export type JsonObject = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
  'x-multi-segment'?: boolean;
}

export interface OpenApiMediaType {
  schema?: JsonObject;
  examples?: Record<string, { value?: unknown; $ref?: string }>;
}

export interface OpenApiOperation {
  operationId: string;
  parameters?: Array<OpenApiParameter | { $ref: string }>;
  requestBody?: { required?: boolean; content: Record<string, OpenApiMediaType> };
  responses?: Record<string, { $ref?: string; content?: Record<string, OpenApiMediaType> }>;
}

export interface OpenApiDocument {
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonObject>;
    parameters: Record<string, OpenApiParameter>;
    examples: Record<string, { value?: unknown }>;
    responses: Record<string, { content?: Record<string, OpenApiMediaType> }>;
  };
  'x-webhooks'?: Record<string, { post?: OpenApiOperation }>;
}

export interface RouteMatch {
  /** The template as written in the description, e.g. `/repos/{owner}/{repo}/check-runs`. */
  template: string;
  /** Methods (lower case) the description defines for the template. */
  operations: Record<string, OpenApiOperation>;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
}

interface CompiledRoute {
  template: string;
  pattern: RegExp;
  names: string[];
  /** Literal characters in the template: among several matches the most literal wins. */
  literalLength: number;
  operations: Record<string, OpenApiOperation>;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const documents = new Map<GitHubSpecName, OpenApiDocument>();
const routeTables = new Map<GitHubSpecName, CompiledRoute[]>();

/** Parses `generated/<name>.json` (13 MB for api.github.com) on first use only. */
export function loadGitHubSpec(name: GitHubSpecName): OpenApiDocument {
  let document = documents.get(name);
  if (document === undefined) {
    // The package has no `exports` map, so its files resolve by path; its index.js would load all ten.
    const file = createRequire(import.meta.url).resolve(`@octokit/openapi/generated/${name}.json`);
    document = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
    documents.set(name, document);
  }
  return document;
}

/** Finds the path template that `pathname` (no query, no server prefix) instantiates. */
export function matchRoute(name: GitHubSpecName, pathname: string): RouteMatch | undefined {
  let best: { route: CompiledRoute; values: string[] } | undefined;
  for (const route of routeTable(name)) {
    const found = route.pattern.exec(pathname);
    if (found === null) continue;
    if (best === undefined || route.literalLength > best.route.literalLength) {
      best = { route, values: found.slice(1) };
    }
  }
  if (best === undefined) return undefined;
  const params: Record<string, string> = {};
  best.route.names.forEach((paramName, index) => {
    params[paramName] = safeDecode(best.values[index] ?? '');
  });
  return { template: best.route.template, operations: best.route.operations, params };
}

/** Resolves `{ $ref: '#/components/parameters/owner' }` and merges nothing else: GitHub has no path-level parameters. */
export function resolveParameter(document: OpenApiDocument, parameter: OpenApiParameter | { $ref: string }): OpenApiParameter {
  if ('$ref' in parameter) {
    const resolved = document.components.parameters[componentName(parameter.$ref, 'parameters')];
    if (resolved === undefined) throw new Error(`unresolvable parameter ${parameter.$ref}`);
    return resolved;
  }
  return parameter;
}

/** `#/components/<kind>/<name>` → `<name>`; anything else is a description this helper does not understand. */
export function componentName(ref: string, kind: string): string {
  const prefix = `#/components/${kind}/`;
  if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref} (expected ${prefix}…)`);
  return ref.slice(prefix.length);
}

function routeTable(name: GitHubSpecName): CompiledRoute[] {
  let table = routeTables.get(name);
  if (table === undefined) {
    const document = loadGitHubSpec(name);
    table = Object.entries(document.paths).map(([template, item]) => compileRoute(document, template, item));
    routeTables.set(name, table);
  }
  return table;
}

function compileRoute(document: OpenApiDocument, template: string, item: Record<string, OpenApiOperation>): CompiledRoute {
  const operations: Record<string, OpenApiOperation> = {};
  const multiSegment = new Set<string>();
  for (const [method, operation] of Object.entries(item)) {
    if (!HTTP_METHODS.has(method)) continue;
    operations[method] = operation;
    for (const parameter of operation.parameters ?? []) {
      const resolved = resolveParameter(document, parameter);
      if (resolved.in === 'path' && resolved['x-multi-segment'] === true) multiSegment.add(resolved.name);
    }
  }
  const names: string[] = [];
  let literalLength = 0;
  // `{base}...{head}` shows a segment may hold literals between parameters, hence the lazy `+?`.
  const source = template.replace(/\{([^}]+)\}|([^{]+)/g, (_whole, param: string | undefined, literal: string | undefined) => {
    if (param !== undefined) {
      names.push(param);
      return multiSegment.has(param) ? '(.+?)' : '([^/]+?)';
    }
    literalLength += literal?.length ?? 0;
    return (literal ?? '').replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  });
  return { template, pattern: new RegExp(`^${source}$`), names, literalLength, operations };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
