/**
 * Checks a GitHub REST call against GitHub's own OpenAPI description (@octokit/openapi): the
 * route and method exist, path and query parameters have the declared types, required query
 * parameters are present, and the JSON body matches the operation's requestBody schema. A call
 * GitHub would reject (or silently misread, see CLOSED_BY_VALIDATOR) throws, naming method, path
 * and every problem. Schemas compile lazily, once per operation: the whole description would take
 * seconds. Also validates responses (to keep fakes honest) and webhook payloads (`x-webhooks`).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { buildJsonSchema, describeSchemaErrors } from './openapi-schema.ts';
import {
  loadGitHubSpec,
  matchRoute,
  resolveParameter,
  type GitHubSpecName,
  type JsonObject,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiParameter,
} from './openapi-spec.ts';

export type { GitHubSpecName } from './openapi-spec.ts';

export interface ApiRequest {
  method: string;
  /** Path as sent, including the server prefix (`/api/v3` for GHES) and any query string. */
  path: string;
  headers?: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text/bytes as sent (parsed here); undefined or empty for none. */
  body?: unknown;
}

export interface ValidatedRequest {
  operationId: string;
  method: string;
  /** e.g. `/repos/{owner}/{repo}/check-runs/{check_run_id}` */
  pathTemplate: string;
  /** Path parameters converted to their declared types (`pull_number` is a number). */
  pathParams: Record<string, unknown>;
  /** Query parameters converted to their declared types; undeclared ones are an error. */
  query: Record<string, unknown>;
  /** The parsed JSON body, or undefined. */
  body: unknown;
}

export type ValidationErrorKind = 'unknown-route' | 'invalid-request' | 'invalid-response' | 'invalid-webhook';

export class OpenApiValidationError extends Error {
  override readonly name = 'OpenApiValidationError';
  constructor(
    readonly kind: ValidationErrorKind,
    readonly method: string,
    readonly path: string,
    readonly problems: string[],
    readonly operationId?: string,
  ) {
    const operation = operationId === undefined ? '' : ` (${operationId})`;
    super(`${method} ${path}${operation}: ${problems.join('; ')}`);
  }
}

export interface OpenApiValidatorOptions {
  /** Prefix the API is served under: '' for api.github.com, '/api/v3' (the default) for GHES. */
  basePath?: string;
  /**
   * Accept body fields and query parameters the description does not declare, as GitHub does.
   * Default false: a misspelled optional field is almost always a bug in the caller.
   */
  allowUnknownFields?: boolean;
}

export interface OpenApiValidator {
  readonly spec: GitHubSpecName;
  readonly basePath: string;
  readonly document: OpenApiDocument;
  validateRequest(request: ApiRequest): ValidatedRequest;
  /** Checks a response body against the operation's schema for `status` (objects stay open). */
  validateResponse(request: Pick<ApiRequest, 'method' | 'path'>, status: number, body: unknown): void;
  /** Checks a webhook payload against GitHub's `x-webhooks` schema, e.g. ('check_run', 'requested_action'). */
  validateWebhook(event: string, action: string | undefined, payload: unknown): void;
}

// ajv-formats is CommonJS (`module.exports = formatsPlugin`, plus `exports.default`). Node hands
// the function to a default import, but TypeScript under NodeNext types that import as the module
// object, whose `default` is the function: take whichever is callable.
type FormatsPlugin = typeof addFormatsModule.default;
const addFormats: FormatsPlugin =
  typeof addFormatsModule === 'function' ? (addFormatsModule as unknown as FormatsPlugin) : addFormatsModule.default;

export function createOpenApiValidator(spec: GitHubSpecName, options: OpenApiValidatorOptions = {}): OpenApiValidator {
  const document = loadGitHubSpec(spec);
  const basePath = options.basePath ?? (spec === 'api.github.com' ? '' : '/api/v3');
  const closeObjects = options.allowUnknownFields !== true;
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, logger: false });
  addFormats(ajv);
  // Formats GitHub uses beyond ajv-formats'; `repo.nwo` is "owner/name".
  ajv.addFormat('repo.nwo', /^[^/\s]+\/[^/\s]+$/);
  ajv.addFormat('timestamp', true);
  const compiled = new Map<string, ValidateFunction>();

  function compile(key: string, build: () => JsonObject): ValidateFunction {
    let validate = compiled.get(key);
    if (validate === undefined) {
      validate = ajv.compile(build());
      compiled.set(key, validate);
    }
    return validate;
  }

  function locate(method: string, rawPath: string): { operation: OpenApiOperation; template: string; params: Record<string, string>; search: string } {
    const upper = method.toUpperCase();
    const url = new URL(rawPath, 'http://validator.invalid');
    let pathname = url.pathname;
    if (basePath !== '') {
      if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) {
        throw new OpenApiValidationError('unknown-route', upper, rawPath, [`not under ${basePath}, where ${spec} serves its REST API`]);
      }
      pathname = pathname.slice(basePath.length) || '/';
    }
    const route = matchRoute(spec, pathname);
    if (route === undefined) {
      throw new OpenApiValidationError('unknown-route', upper, rawPath, [`no such route in the ${spec} description`]);
    }
    const operation = route.operations[method.toLowerCase()];
    if (operation === undefined) {
      const allowed = Object.keys(route.operations).map((m) => m.toUpperCase()).join(', ');
      throw new OpenApiValidationError('unknown-route', upper, rawPath, [`${route.template} has no ${upper} operation (only ${allowed})`]);
    }
    return { operation, template: route.template, params: route.params, search: url.search };
  }

  function validateRequest(request: ApiRequest): ValidatedRequest {
    const method = request.method.toUpperCase();
    const { operation, template, params, search } = locate(method, request.path);
    const problems: string[] = [];
    const parameters = (operation.parameters ?? []).map((p) => resolveParameter(document, p));

    const pathParams = convertParameters(parameters.filter((p) => p.in === 'path'), params);
    const queryValues: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(search)) {
      const previous = queryValues[name];
      queryValues[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
    const queryParameters = parameters.filter((p) => p.in === 'query');
    const query = convertParameters(queryParameters, queryValues);
    if (closeObjects) {
      const declared = new Set(queryParameters.map((p) => p.name));
      for (const name of Object.keys(queryValues)) {
        if (!declared.has(name)) problems.push(`unknown query parameter "${name}": GitHub's description does not list it, so GitHub would ignore it`);
      }
    }
    for (const [where, group, values] of [
      ['path parameter', parameters.filter((p) => p.in === 'path'), pathParams],
      ['query parameter', queryParameters, query],
    ] as const) {
      problems.push(...checkParameters(operation.operationId, where, group, values));
    }

    const content = operation.requestBody?.content;
    // Only markdown/render-raw style operations take non-JSON bodies; those are passed through unparsed.
    const takesJson = content === undefined || content['application/json'] !== undefined;
    const body = takesJson ? parseBody(request.body, contentType(request.headers), problems) : request.body;
    const jsonSchema = content?.['application/json']?.schema;
    if (body === undefined) {
      if (operation.requestBody?.required === true) problems.push('request body is required');
    } else if (jsonSchema !== undefined) {
      const validate = compile(`request ${operation.operationId}`, () => buildJsonSchema(document, jsonSchema, { closeObjects }));
      if (!validate(body)) problems.push(...describeSchemaErrors(validate.errors ?? [], 'request body'));
    } else if (operation.requestBody === undefined && method !== 'GET' && method !== 'HEAD' && !isEmptyObject(body)) {
      problems.push(`${operation.operationId} takes no request body`);
    }

    if (problems.length > 0) throw new OpenApiValidationError('invalid-request', method, request.path, problems, operation.operationId);
    return { operationId: operation.operationId, method, pathTemplate: template, pathParams, query, body };
  }

  function checkParameters(operationId: string, where: string, group: OpenApiParameter[], values: Record<string, unknown>): string[] {
    if (group.length === 0) return [];
    const validate = compile(`${where} ${operationId}`, () =>
      buildJsonSchema(
        document,
        {
          type: 'object',
          properties: Object.fromEntries(group.map((p) => [p.name, p.schema ?? {}])),
          required: group.filter((p) => p.required === true).map((p) => p.name),
        },
        { closeObjects: false },
      ),
    );
    if (validate(values)) return [];
    return describeSchemaErrors(validate.errors ?? [], where).map((line) =>
      line.replace(`${where}: missing required field `, `missing required ${where} `).replace(`${where} field `, `${where} `),
    );
  }

  function validateResponse(request: Pick<ApiRequest, 'method' | 'path'>, status: number, body: unknown): void {
    const method = request.method.toUpperCase();
    const { operation } = locate(method, request.path);
    let response = operation.responses?.[String(status)];
    if (response?.$ref !== undefined) response = document.components.responses[response.$ref.split('/').pop() ?? ''];
    if (response === undefined) {
      throw new OpenApiValidationError('invalid-response', method, request.path, [`status ${status} is not documented`], operation.operationId);
    }
    const schema = response.content?.['application/json']?.schema;
    if (schema === undefined) return;
    const validate = compile(`response ${status} ${operation.operationId}`, () => buildJsonSchema(document, schema, { closeObjects: false }));
    if (!validate(body)) {
      throw new OpenApiValidationError('invalid-response', method, request.path, describeSchemaErrors(validate.errors ?? [], `response ${status}`), operation.operationId);
    }
  }

  function validateWebhook(event: string, action: string | undefined, payload: unknown): void {
    const key = [event, action].filter((part) => part !== undefined).join('-').replace(/_/g, '-');
    const schema = document['x-webhooks']?.[key]?.post?.requestBody?.content['application/json']?.schema;
    if (schema === undefined) throw new OpenApiValidationError('invalid-webhook', 'POST', `webhook ${key}`, [`no x-webhooks entry "${key}" in the ${spec} description`]);
    const validate = compile(`webhook ${key}`, () => buildJsonSchema(document, schema, { closeObjects: false }));
    if (!validate(payload)) {
      throw new OpenApiValidationError('invalid-webhook', 'POST', `webhook ${key}`, describeSchemaErrors(validate.errors ?? [], 'payload'));
    }
  }

  return { spec, basePath, document, validateRequest, validateResponse, validateWebhook };
}

/**
 * Path and query values arrive as strings; convert them to the declared type first so the schema
 * check sees what GitHub would parse. A value that does not convert stays a string, and the
 * schema check then reports it (`check_run_id must be integer (got string "abc")`).
 */
function convertParameters(declared: OpenApiParameter[], raw: Record<string, string | string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const parameter of declared) {
    const value = raw[parameter.name];
    if (value === undefined) continue;
    const type = parameter.schema?.type;
    const single = Array.isArray(value) ? value[value.length - 1] ?? '' : value;
    if (type === 'integer' && /^-?\d+$/.test(single)) out[parameter.name] = Number(single);
    else if (type === 'number' && /^-?\d+(\.\d+)?$/.test(single)) out[parameter.name] = Number(single);
    else if (type === 'boolean' && (single === 'true' || single === 'false')) out[parameter.name] = single === 'true';
    else if (type === 'array') out[parameter.name] = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(','));
    else out[parameter.name] = single;
  }
  return out;
}

function contentType(headers: ApiRequest['headers']): string | undefined {
  const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(body: unknown, type: string | undefined, problems: string[]): unknown {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    if (text.trim() === '') return undefined;
    // GitHub parses the body as JSON whatever the header says; a form-encoded body is the usual mistake.
    if (type !== undefined && type.includes('application/x-www-form-urlencoded')) {
      problems.push(`request body sent as ${type}: GitHub's REST API takes JSON`);
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      problems.push('request body is not valid JSON (GitHub answers 400 "Problems parsing JSON")');
      return undefined;
    }
  }
  return body;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
