/**
 * `sql.mask.columns`: which columns are sensitive. A glob has one, two or three dot-separated
 * parts — `*email*` (a column of any table, and any output column so named), `users.email`
 * (any schema), `billing.cards.number` — each matched case-insensitively against one identifier.
 */
import picomatch from 'picomatch';

export interface ColumnMatcher {
  /** No globs at all: nothing is sensitive by name. */
  readonly empty: boolean;
  isSensitiveColumn(schema: string, table: string, column: string): boolean;
  /** Output column names (RowDescription) matched against the bare column globs. */
  isSensitiveName(outputColumnName: string): boolean;
  /** Could some column of this table be sensitive? For tables whose columns are not known. */
  mayHaveSensitiveColumns(schema: string, table: string): boolean;
}

type Test = (value: string) => boolean;

interface CompiledGlob {
  schema: Test | null;
  table: Test | null;
  column: Test;
}

const CACHE_LIMIT = 10_000;

export function compileColumnMatcher(globs: readonly string[]): ColumnMatcher {
  const compiled = globs.map(compileGlob).filter((g): g is CompiledGlob => g !== null);
  const bare = compiled.filter((g) => g.table === null);
  const cache = new Map<string, boolean>();
  const remember = (key: string, value: boolean) => {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, value);
    return value;
  };

  return {
    empty: compiled.length === 0,
    isSensitiveColumn(schema, table, column) {
      if (compiled.length === 0) return false;
      const key = `c\u0000${schema}\u0000${table}\u0000${column}`;
      const known = cache.get(key);
      if (known !== undefined) return known;
      const s = identifier(schema);
      const t = identifier(table);
      const c = identifier(column);
      return remember(key, compiled.some((g) => g.column(c) && (g.table === null || g.table(t)) && (g.schema === null || g.schema(s))));
    },
    isSensitiveName(name) {
      if (bare.length === 0) return false;
      const key = `n\u0000${name}`;
      const known = cache.get(key);
      if (known !== undefined) return known;
      const n = identifier(name);
      return remember(key, bare.some((g) => g.column(n)));
    },
    mayHaveSensitiveColumns(schema, table) {
      if (bare.length > 0) return true;
      const s = identifier(schema);
      const t = identifier(table);
      return compiled.some((g) => (g.table === null || g.table(t)) && (g.schema === null || g.schema(s)));
    },
  };
}

function compileGlob(glob: string): CompiledGlob | null {
  const parts = glob.trim().split('.');
  if (parts.some((p) => p.length === 0)) return null;
  const test = (part: string): Test => picomatch(part, { nocase: true, dot: true });
  if (parts.length === 1) return { schema: null, table: null, column: test(parts[0]!) };
  if (parts.length === 2) return { schema: null, table: test(parts[0]!), column: test(parts[1]!) };
  return { schema: test(parts.slice(0, -2).join('.')), table: test(parts[parts.length - 2]!), column: test(parts[parts.length - 1]!) };
}

/**
 * picomatch treats `/` as a path separator that `*` never crosses; an identifier is one segment,
 * so `/` (legal in a quoted identifier) is matched as an ordinary character.
 */
function identifier(name: string): string {
  return name.includes('/') ? name.replace(/\//g, '_') : name;
}
