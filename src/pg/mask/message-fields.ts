/**
 * Values leak outside rows too: a unique violation's DETAIL (`Key (email)=(a@b.com) already
 * exists.`), a NOT NULL or CHECK violation's `Failing row contains (…)`, RAISE NOTICE text.
 * ErrorResponse / NoticeResponse fields (protocol-error-fields) are masked here: key values and
 * failing-row values of sensitive columns, then the value detectors over every free-text field.
 * Identifier fields (schema, table, column, type, constraint names) and location fields stay.
 */
import type { CatalogSnapshot } from './catalog.ts';
import { maskSpans, maskString } from './mask-text.ts';
import { detectShaped, mayContainSensitive } from './detectors.ts';
import type { MaskRules } from './result-plan.ts';

/** Message, Detail, Hint, Where (context), internal query. */
const FREE_TEXT_FIELDS = ['M', 'D', 'H', 'W', 'q'];

const KEY_DETAIL = /^(Key \()(.+?)(\)=\()(.*)(\)[^()]*)$/s;
const FAILING_ROW = /^(Failing row contains \()(.*)(\)\.?)$/s;

/** Masked copy of the fields, or null when nothing changed. */
export function maskMessageFields(fields: ReadonlyMap<string, string>, rules: MaskRules, catalog?: CatalogSnapshot): Map<string, string> | null {
  const out = new Map(fields);
  let changed = false;
  const table = fields.get('t');
  const schema = fields.get('s') ?? 'public';
  const detail = fields.get('D');
  if (detail !== undefined) {
    const masked = maskKeyDetail(detail, schema, table, rules) ?? maskFailingRow(detail, schema, table, rules, catalog);
    if (masked !== null && masked !== detail) {
      out.set('D', masked);
      changed = true;
    }
  }
  for (const code of FREE_TEXT_FIELDS) {
    const value = out.get(code);
    if (value === undefined || !mayContainSensitive(value, rules.detectors)) continue;
    const spans = detectShaped(value, rules.detectors);
    if (spans.length === 0) continue;
    out.set(code, maskSpans(value, spans, rules));
    changed = true;
  }
  return changed ? out : null;
}

function columnSensitive(column: string, schema: string, table: string | undefined, rules: MaskRules): boolean {
  const name = column.replace(/^"(.*)"$/s, '$1').replace(/""/g, '"');
  return rules.columns.isSensitiveName(name) || (table !== undefined && rules.columns.isSensitiveColumn(schema, table, name));
}

/** `Key (a, b)=(1, x) already exists.`: values of sensitive key columns masked. */
function maskKeyDetail(detail: string, schema: string, table: string | undefined, rules: MaskRules): string | null {
  const m = KEY_DETAIL.exec(detail);
  if (!m) return null;
  const columns = m[2]!.split(', ');
  const sensitive = columns.map((c) => columnSensitive(c, schema, table, rules));
  if (!sensitive.some(Boolean)) return detail;
  const values = m[4]!.split(', ');
  // Values may themselves contain ", ": when the split does not line up, all of them are masked.
  const masked = values.length === columns.length ? values.map((v, i) => (sensitive[i] ? maskString(v, rules) : v)).join(', ') : maskString(m[4]!, rules);
  return m[1]! + m[2]! + m[3]! + masked + m[5]!;
}

/** `Failing row contains (1, a@b.com, null).`: values in table column order (ExecBuildSlotValueDescription). */
function maskFailingRow(detail: string, schema: string, table: string | undefined, rules: MaskRules, catalog: CatalogSnapshot | undefined): string | null {
  const m = FAILING_ROW.exec(detail);
  if (!m || rules.columns.empty) return null;
  const relation = table === undefined ? undefined : catalog?.relation(schema, table);
  const values = m[2]!.split(', ');
  if (!relation) {
    const mayHave = table === undefined || rules.columns.mayHaveSensitiveColumns(schema, table);
    return mayHave ? m[1]! + maskString(m[2]!, rules) + m[3]! : null;
  }
  const names = relation.columns.filter((c): c is string => c !== null);
  const sensitive = names.map((c) => rules.columns.isSensitiveColumn(relation.schema, relation.name, c) || rules.columns.isSensitiveName(c));
  if (!sensitive.some(Boolean)) return null;
  if (values.length !== names.length) return m[1]! + maskString(m[2]!, rules) + m[3]!;
  return m[1]! + values.map((v, i) => (sensitive[i] && v !== 'null' ? maskString(v, rules) : v)).join(', ') + m[3]!;
}
