import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../../src/http/api-routes.ts';
import type { GatewayDeps } from '../../../src/http/deps.ts';
import { API_OPERATIONS, openApiDocument } from '../../../src/http/openapi.ts';

/** Registration reads nothing but the store handle; no handler runs here. */
const deps = { store: { db: {} }, log: { error() {} } } as unknown as GatewayDeps;

describe('OpenAPI description of the REST API', () => {
  it('documents exactly the routes hono registers under /api/v1', () => {
    const registered = new Set(
      apiRoutes(deps)
        .routes.filter((route) => route.method !== 'ALL')
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect([...registered].sort()).toEqual(Object.keys(API_OPERATIONS).sort());
  });

  it('is OpenAPI 3.1 with request bodies from the zod schemas the handlers parse with', () => {
    const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: { properties: Record<string, unknown>; required?: string[] } } } }; parameters?: Array<{ name: string; in: string }> }>> };
    expect(document.openapi).toBe('3.1.0');
    const createAgent = document.paths['/agents']!.post!.requestBody!.content['application/json'].schema;
    expect(Object.keys(createAgent.properties)).toEqual(expect.arrayContaining(['name', 'read', 'write', 'db', 'dbRead', 'expires']));
    expect(createAgent.required).toEqual(['name']);
    expect(document.paths['/approvals/{id}/approve']!.post!.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
  });
});
