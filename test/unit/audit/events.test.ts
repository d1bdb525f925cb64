import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, appendAuditEvent, recordSha256, type AuditEventType } from '../../../src/audit/events.ts';

describe('audit event catalogue', () => {
  it.each(Object.keys(AUDIT_EVENTS) as AuditEventType[])('%s: dotted name, a summary, and an example its schema accepts', (type) => {
    const entry = AUDIT_EVENTS[type];
    expect(type).toMatch(/^[a-z]+\.[a-z.]+$/);
    expect(entry.summary.length).toBeGreaterThan(10);
    expect(entry.data.safeParse(entry.example).success).toBe(true);
    expect(entry.data.safeParse({ ...entry.example, unexpected: 1 }).success).toBe(false);
  });

  it('appends through the appender with the type, actor, subject and data given', async () => {
    const appended: unknown[] = [];
    const seq = await appendAuditEvent({ append: async (body) => (appended.push(body), 7) }, 'pg.session', {
      actor: 'coder',
      subject: 'db:app',
      data: { sessionId: 'db1', database: 'app', outcome: 'ok', error: null },
    });
    expect(seq).toBe(7);
    expect(appended).toEqual([{ type: 'pg.session', actor: 'coder', subject: 'db:app', data: { sessionId: 'db1', database: 'app', outcome: 'ok', error: null } }]);
  });

  it('binds records by the sha256 of their canonical JSON: key order does not matter, any value change does', () => {
    expect(recordSha256({ a: 1, b: [1, 2] })).toBe(recordSha256({ b: [1, 2], a: 1 }));
    expect(recordSha256({ a: 1, b: [1, 2] })).not.toBe(recordSha256({ a: 1, b: [2, 1] }));
  });
});
