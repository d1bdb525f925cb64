/**
 * Masked values stay legal values of their type, checked by the real server: text-format masks
 * are fed back as `$1::type` text parameters (the type's input function), binary-format masks as
 * binary parameters (its receive function; node-postgres sends a Buffer in binary format). The
 * binary originals come from node-postgres with binary results and raw (identity) type parsers.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DETECTORS, KEEP, maskDetectedValue, maskWholeValue, typeShape } from '../../../src/pg/mask/index.ts';
import type { MaskStyle } from '../../../src/pg/mask/index.ts';
import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.ts';

const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) throw new Error('CI must provide PostgreSQL at 127.0.0.1:5432');

const KEY = Buffer.from('test-only hash key');
const STYLES: MaskStyle[] = ['redact', 'partial', 'hash'];

/** [type, sample literal]: every kind mask-value.ts writes, plus arrays. */
const SAMPLES: Array<[string, string]> = [
  ['text', 'john.doe@example.com'],
  ['varchar(200)', 'Jane Q. Public'],
  ['bpchar(20)', 'fixed width'],
  ['name', 'some_identifier'],
  ['"char"', 'x'],
  ['json', '{"email": "a@example.com", "n": 1}'],
  ['jsonb', '{"email": "a@example.com", "n": [1, 2]}'],
  ['bytea', '\\x6a6f686e406578616d706c652e636f6d'],
  ['bool', 'true'],
  ['int2', '-1234'],
  ['int4', '4111111'],
  ['int8', '4111111111111111'],
  ['float4', '3.5'],
  ['float8', '-2.25e10'],
  ['numeric', '4111111111111111.50'],
  ['numeric', '-0.001'],
  ['uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['date', '2021-03-04'],
  ['time', '12:34:56'],
  ['timetz', '12:34:56+02'],
  ['timestamp', '2021-03-04 12:34:56.789'],
  ['timestamptz', '2021-03-04 12:34:56+01'],
  ['interval', '1 day 02:00:00'],
  ['text[]', '{a@example.com,"b c",NULL}'],
  ['int4[]', '{{1,2},{3,4}}'],
  ['varchar[]', '{4111111111111111}'],
  ['jsonb[]', '{"{\\"a\\": 1}"}'],
  ['inet', '10.0.0.1'],
  ['int4range', '[1,5)'],
];

describe.skipIf(!pgUp)('masked values are legal values of their type (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;
  const raw = { getTypeParser: () => (value: string | Buffer) => value } as unknown as pg.CustomTypesConfig;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  /** The value as the server sends it in `format`, and its type OID. */
  async function fetch(type: string, literal: string, format: 0 | 1): Promise<{ cell: Buffer; typeOid: number }> {
    const result = await client.query({ text: `select $1::${type} as v`, values: [literal], binary: format === 1, types: raw, rowMode: 'array' } as pg.QueryConfig);
    const value = result.rows[0][0] as string | Buffer;
    return { cell: Buffer.isBuffer(value) ? value : Buffer.from(value), typeOid: result.fields[0]!.dataTypeID };
  }

  /** Fed back through the type's input (text) or receive (binary) function; throws when illegal. */
  async function roundTrip(type: string, masked: Buffer, format: 0 | 1): Promise<string> {
    const value = format === 1 ? masked : masked.toString('utf8');
    const result = await client.query({ text: `select ($1::${type})::text as v`, values: [value], rowMode: 'array' } as pg.QueryConfig);
    return result.rows[0][0] as string;
  }

  for (const [type, literal] of SAMPLES) {
    for (const format of [0, 1] as const) {
      it(`${type} ${literal} (${format === 0 ? 'text' : 'binary'}) masked whole in every style`, async () => {
        const { cell, typeOid } = await fetch(type, literal, format);
        const original = await roundTrip(type, Buffer.from(literal), 0);
        for (const style of STYLES) {
          const masked = maskWholeValue(cell, typeShape(typeOid), format, { style, hashKey: KEY });
          if (masked === null) continue; // NULL: legal for every type
          const back = await roundTrip(type, masked, format);
          if (style === 'redact') expect(back).not.toBe(original); // partial may keep a short value whole ({1,2}: last four digits)
          if (style === 'hash') expect(maskWholeValue(cell, typeShape(typeOid), format, { style, hashKey: KEY })).toEqual(masked); // stable
        }
      });
    }
  }

  const DETECTED: Array<[string, string]> = [
    ['text', 'write to john.doe@example.com or call'],
    ['json', '{"note": "card 4111 1111 1111 1111 on file"}'],
    ['jsonb', '{"ssn": "078-05-1120", "n": 1}'],
    ['bytea', '\\x' + Buffer.from('token 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 end').toString('hex')],
    ['text[]', '{"a@example.com",plain,NULL}'],
    ['jsonb[]', '{"{\\"e\\": \\"a@example.com\\"}"}'],
    ['varchar', 'am9obi5kb2VAZXhhbXBsZS5jb20='],
  ];

  for (const [type, literal] of DETECTED) {
    for (const format of [0, 1] as const) {
      it(`${type} with a detected value (${format === 0 ? 'text' : 'binary'}) keeps its type in every style`, async () => {
        const { cell, typeOid } = await fetch(type, literal, format);
        for (const style of STYLES) {
          const masked = maskDetectedValue(cell, typeShape(typeOid), format, { style, hashKey: KEY, detectors: ALL_DETECTORS });
          expect(masked).not.toBe(KEEP);
          if (masked === null || masked === KEEP) continue;
          const back = await roundTrip(type, masked, format);
          for (const secret of ['john.doe@example.com', '4111 1111 1111 1111', '078-05-1120', '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', 'a@example.com']) {
            expect(back).not.toContain(secret);
          }
        }
      });
    }
  }
});
