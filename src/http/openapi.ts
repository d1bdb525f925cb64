import { z } from 'zod';
import { adminTokenBody, agentBody, decisionBody, grantBody } from './request-bodies.ts';

/**
 * The REST API's OpenAPI 3.1 description, served at /api/v1/openapi.json. Paths come from what is
 * documented here and the tests hold it to what hono actually registers, so a route cannot be
 * added without its entry. Request bodies are the same zod schemas the handlers parse with.
 */

interface Operation {
  summary: string;
  body?: z.ZodType;
  query?: Record<string, string>;
}

export const API_OPERATIONS: Record<string, Operation> = {
  'GET /sessions': { summary: 'Git and database sessions, newest first', query: { kind: 'git or database', agent: 'agent name', repo: 'owner/repo or remote/owner/repo', database: 'database name', before: 'session id', limit: 'at most this many (50)' } },
  'GET /sessions/{id}': { summary: 'One session: a git session with its requests, or a database session with every statement in order' },
  'GET /agents': { summary: 'Agents with their scopes and status' },
  'POST /agents': { summary: 'Create an agent; its token is in the answer, once', body: agentBody },
  'DELETE /agents/{name}': { summary: "Revoke an agent's token (effective on its next request)" },
  'POST /admin-tokens': { summary: 'Issue an admin token (shown once)', body: adminTokenBody },
  'GET /approvals': { summary: 'Held pushes and held SQL statements, newest first', query: { status: 'pending, approved, denied, expired, applied or stale', limit: 'at most this many' } },
  'GET /approvals/{id}': { summary: 'One hold with its events' },
  'POST /approvals/{id}/approve': { summary: 'Approve a hold (never by the agent that caused it)', body: decisionBody },
  'POST /approvals/{id}/deny': { summary: 'Deny a hold', body: decisionBody },
  'POST /grants': { summary: "Let an agent's pushes to matching refs pass without a hold for a while", body: grantBody },
  'GET /audit/pubkey': { summary: "The audit chain's checkpoint public key (SPKI PEM)" },
  'GET /audit/verify': { summary: 'Verify the audit chain and the records bound into it', query: { from: 'first seq to verify', publicKey: 'verify checkpoints with this PEM key' } },
  'GET /audit/export': { summary: 'The audit chain as JSONL (events and checkpoints), streamed', query: { since: 'ISO time', until: 'ISO time' } },
  'GET /github/installations': { summary: 'GitHub App installations and recent webhook deliveries' },
  'GET /openapi.json': { summary: 'This description' },
};

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } } } },
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, operation] of Object.entries(API_OPERATIONS)) {
    const [method, path] = key.split(' ') as [string, string];
    const parameters = [
      ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(operation.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } })),
    ];
    (paths[path] ??= {})[method.toLowerCase()] = {
      summary: operation.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(operation.body, { io: 'input' }) } } } } : {}),
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
        default: { description: 'An error, said for people', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'portcullis REST API', version: '1', description: 'Admin token (Bearer) required, except on the local control socket.' },
    servers: [{ url: '/api/v1' }],
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    security: [{ adminToken: [] }],
    paths,
  };
}
