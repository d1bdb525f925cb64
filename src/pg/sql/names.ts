/**
 * Relation names in one canonical spelling, so names from statements, from the policy file and
 * from the catalog compare equal exactly when PostgreSQL would resolve them to the same name:
 * each part bare when it is a plain lower-case identifier, double-quoted otherwise (`public.users`,
 * `public."Users"`). `::regclass` reads this spelling back.
 */

const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;

export function quoteIdentifier(name: string): string {
  return PLAIN_IDENTIFIER.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** `schema.name`, or `name` alone when the statement left the schema to the search_path. */
export function qualifiedName(schema: string | undefined, name: string): string {
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name);
}

/**
 * Splits a dotted name into the identifiers PostgreSQL reads: unquoted parts fold to lower case,
 * quoted parts keep their case (`""` is a quote). Null when the text is not a dotted name.
 */
export function parseQualifiedName(text: string): string[] | null {
  const parts: string[] = [];
  let i = 0;
  const source = text.trim();
  while (i <= source.length) {
    let part: string;
    if (source[i] === '"') {
      part = '';
      i += 1;
      for (;;) {
        const close = source.indexOf('"', i);
        if (close < 0) return null;
        part += source.slice(i, close);
        i = close + 1;
        if (source[i] !== '"') break;
        part += '"';
        i += 1;
      }
    } else {
      const dot = source.indexOf('.', i);
      const end = dot < 0 ? source.length : dot;
      part = source.slice(i, end);
      if (/["\s]/.test(part)) return null;
      // PostgreSQL folds ASCII letters only (downcase_identifier); other letters keep their case.
      part = part.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
      i = end;
    }
    if (part === '') return null;
    parts.push(part);
    if (i === source.length) return parts;
    if (source[i] !== '.') return null;
    i += 1;
  }
  return null;
}
