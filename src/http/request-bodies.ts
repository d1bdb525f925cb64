import { z } from 'zod';

/** Request bodies of the REST API: parsed by the handlers and published in its OpenAPI description. */

export const agentBody = z
  .object({
    name: z.string().min(1),
    read: z.array(z.string()).default([]),
    write: z.array(z.string()).default([]),
    expires: z.string().optional(),
    githubLogin: z.string().min(1).optional(),
    db: z.array(z.string()).default([]),
    dbRead: z.array(z.string()).default([]),
  })
  .strict();

export const adminTokenBody = z.object({ label: z.string().max(100).optional(), expires: z.string().optional() }).strict();

export const decisionBody = z.object({ reviewer: z.string().min(1).max(200), comment: z.string().max(2000).optional() }).strict();

export const grantBody = z
  .object({
    agent: z.string().min(1),
    ref: z.string().min(1),
    repo: z.string().min(1).default('*/*/*'),
    for: z.string().min(1),
    grantedBy: z.string().min(1).max(200),
  })
  .strict();
