import { createStaticCatalog, compileMaskPolicy, type MaskRules } from '../../../../src/pg/mask/index.ts';

/**
 * A small shop database, as the catalog cache would load it: a dropped column in users, a view
 * over a view, a materialized view, SQL functions (set-returning and scalar), a PL/pgSQL function
 * returning a table's rows, another declaring its columns, and one user type.
 */
export const USERS_OID = 16_400;
export const ORDERS_OID = 16_401;
export const CARDS_OID = 16_402;
export const CONTACTS_VIEW_OID = 16_403;
export const CONTACTS_V2_OID = 16_404;
export const MV_OID = 16_405;
export const CITEXT_OID = 16_500;

export const catalog = createStaticCatalog({
  relations: [
    { oid: USERS_OID, schema: 'public', name: 'users', kind: 'table', columns: ['id', 'email', 'name', null, 'password_hash', 'tags'], columnTypes: [23, 25, 25, 0, 25, 1009] },
    { oid: ORDERS_OID, schema: 'public', name: 'orders', kind: 'table', columns: ['id', 'user_id', 'total', 'note'], columnTypes: [23, 23, 1700, 25] },
    { oid: CARDS_OID, schema: 'billing', name: 'cards', kind: 'table', columns: ['id', 'user_id', 'number'], columnTypes: [23, 23, 25] },
    {
      oid: CONTACTS_VIEW_OID,
      schema: 'public',
      name: 'user_contacts',
      kind: 'view',
      columns: ['id', 'contact', 'name'],
      viewDefinition: ' SELECT users.id, lower(users.email) AS contact, users.name FROM users;',
    },
    {
      oid: CONTACTS_V2_OID,
      schema: 'public',
      name: 'contacts_v2',
      kind: 'view',
      columns: ['contact', 'number'],
      viewDefinition: ' SELECT c.contact, b.number FROM user_contacts c JOIN billing.cards b ON b.user_id = c.id;',
    },
    { oid: MV_OID, schema: 'public', name: 'mv_emails', kind: 'matview', columns: ['id', 'email'], viewDefinition: ' SELECT users.id, users.email FROM users;' },
  ],
  functions: [
    { schema: 'public', name: 'emails_of', language: 'sql', body: 'select email from users where id = uid', returnsSet: true, argCount: 1 },
    { schema: 'public', name: 'email_of', language: 'sql', body: 'SELECT (SELECT users.email FROM users WHERE users.id = uid)', returnsSet: false, argCount: 1 },
    { schema: 'public', name: 'user_rows', language: 'plpgsql', body: null, returnsSet: true, argCount: 0, returnsRelation: 'public.users' },
    { schema: 'public', name: 'tbl', language: 'plpgsql', body: null, returnsSet: true, argCount: 0, outputColumns: ['mail', 'n'] },
    { schema: 'public', name: 'secret_of', language: 'plpgsql', body: null, returnsSet: false, argCount: 1 },
    { schema: 'pg_catalog', name: 'lower', language: 'internal', body: null, returnsSet: false, argCount: 1 },
  ],
  types: [{ oid: CITEXT_OID, name: 'citext', category: 'S', baseOid: 0, elemOid: 0 }],
});

export const policy = { columns: ['users.email', 'billing.cards.number', '*password*'], detectors: 'all' as const, style: 'redact' as const };

export function rulesFor(style: 'redact' | 'partial' | 'hash' = 'redact', columns = policy.columns): MaskRules {
  return compileMaskPolicy({ ...policy, columns, style }, Buffer.from('unit-test key'));
}
