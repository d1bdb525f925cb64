import { beforeAll, describe, expect, it } from 'vitest';
import { computeLineage, copyFormatOf, createCopyOutMasker, createMaskContext, maskCopyRow, planCopy, type CopyFormat } from '../../../../src/pg/mask/index.ts';
import { parseCsvRow, unescapeCopyText, escapeCopyText } from '../../../../src/pg/mask/copy-row.ts';
import { loadSqlParser, parseSql } from '../../../../src/pg/sql/parser.ts';
import { catalog, rulesFor } from './catalog-fixture.ts';
import { COPY_SIGNATURE, COPY_TRAILER, dataRowBody, int4, readDataRow } from './row-builders.ts';

beforeAll(() => loadSqlParser());

const rules = rulesFor();

/** Plan for `COPY users TO STDOUT`: id int4, email text (sensitive), name text, password_hash (sensitive), tags text[]. */
function usersPlan(format: CopyFormat, text = 'copy users to stdout') {
  const parsed = parseSql(text);
  if (!parsed.ok) throw new Error('parse');
  const lineage = computeLineage(parsed.tree.stmts![0]!.stmt!, catalog, rules.columns);
  return planCopy(lineage, lineage.columns!.length, format, catalog, rules);
}

describe('COPY TO STDOUT masking', () => {
  it('plans from lineage, with types where lineage knows them', () => {
    expect(usersPlan('text').columns.map((c) => `${c.action}:${c.shape.kind}`)).toEqual(['pass:int4', 'mask:text', 'detect:text', 'mask:text', 'detect:array']);
    expect(usersPlan('text', 'copy (select email || name from users) to stdout').columns.map((c) => `${c.action}:${c.shape.kind}`)).toEqual(['mask:other']);
  });

  it('text format: masks sensitive fields, re-escapes, keeps others byte-identical', () => {
    const plan = usersPlan('text');
    const ctx = createMaskContext(rules);
    const row = Buffer.from('1\ta@example.com\tAnn\\tTab\t$2b$12$x\t{x,y}\n');
    expect(maskCopyRow(row, 'text', plan, ctx)?.toString()).toBe('1\t****\tAnn\\tTab\t****\t{x,y}\n');
    expect(ctx.maskedCells).toBe(2);
    expect(maskCopyRow(Buffer.from('2\t\\N\tcall b@example.com\t\\N\t\\N\n'), 'text', plan, ctx)?.toString()).toBe('2\t\\N\tcall ****\t\\N\t\\N\n');
  });

  it('a field of unknown type is masked to \\N, legal for any type', () => {
    const plan = usersPlan('text', 'copy (select email || name from users) to stdout');
    expect(maskCopyRow(Buffer.from('a@example.comAnn\n'), 'text', plan, createMaskContext(rules))?.toString()).toBe('\\N\n');
  });

  it('csv: quoted values, embedded delimiters and newlines, NULL as empty', () => {
    const format = copyFormatOf({ options: [{ DefElem: { defname: 'format', arg: { String: { sval: 'csv' } } } }] });
    expect(format).toEqual({ format: 'csv' });
    const plan = usersPlan(format);
    const ctx = createMaskContext(rules);
    const row = Buffer.from('1,"a@example.com","Ann, ""the"" first\nline",,"{x,y}"\n');
    expect(maskCopyRow(row, format, plan, ctx)?.toString()).toBe('1,"****","Ann, ""the"" first\nline",,"{x,y}"\n');
    expect(parseCsvRow('a,"b,c",,"d""e"', ',', '"', '"').map((f) => f.value)).toEqual(['a', 'b,c', '', 'd"e']);
  });

  it('csv with HEADER: the header line passes', () => {
    const plan = usersPlan('csv');
    const mask = createCopyOutMasker({ format: 'csv', header: true }, plan, createMaskContext(rules));
    expect(mask(Buffer.from('id,email,name,password_hash,tags\n'))).toBeNull();
    expect(mask(Buffer.from('1,a@example.com,Ann,x,{}\n'))?.toString()).toBe('1,"****",Ann,"****",{}\n');
  });

  it('binary: header with the first tuple, tuples alone, the trailer alone', () => {
    const plan = usersPlan('binary');
    const ctx = createMaskContext(rules);
    const tuple = (email: string) => dataRowBody([int4(1), email, 'Ann', null, null]);
    const first = maskCopyRow(Buffer.concat([COPY_SIGNATURE, tuple('a@example.com')]), 'binary', plan, ctx)!;
    expect(first.subarray(0, COPY_SIGNATURE.length).equals(COPY_SIGNATURE)).toBe(true);
    const cells = readDataRow(first.subarray(COPY_SIGNATURE.length));
    expect(cells[1]!.toString()).toBe('****');
    expect(cells[0]!.equals(int4(1))).toBe(true);
    expect(readDataRow(maskCopyRow(tuple('b@example.com'), 'binary', plan, ctx)!)[1]!.toString()).toBe('****');
    expect(maskCopyRow(COPY_TRAILER, 'binary', plan, ctx)).toBeNull();
    expect(maskCopyRow(Buffer.concat([COPY_SIGNATURE, COPY_TRAILER]), 'binary', plan, ctx)).toBeNull();
  });

  it('reads COPY options from the parse tree', () => {
    const parsed = parseSql("copy users to stdout with (format csv, delimiter ';', null 'NULL', header true, quote '''')");
    if (!parsed.ok) throw new Error('parse');
    expect(copyFormatOf((parsed.tree.stmts![0]!.stmt as { CopyStmt: object }).CopyStmt)).toEqual({ format: 'csv', delimiter: ';', null: 'NULL', header: true, quote: "'" });
  });

  it('escapes and unescapes the text format', () => {
    expect(unescapeCopyText('a\\tb\\\\c\\nd\\x41\\101')).toBe('a\tb\\c\ndAA');
    expect(escapeCopyText('a\tb\\c\nd|', '|')).toBe('a\\tb\\\\c\\nd\\|');
  });
});
