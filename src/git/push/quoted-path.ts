/**
 * Path names as git prints them in patch headers: verbatim, or — when they hold control characters,
 * `"` or `\` — in double quotes with C-style escapes and octal bytes (quote_c_style in git's
 * quote.c; with core.quotePath=false non-ASCII stays verbatim).
 */
const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Reads one quoted name at the start of `text`; returns it and what follows, or undefined. */
export function readQuotedPath(text: string): { path: string; rest: string } | undefined {
  if (!text.startsWith('"')) return undefined;
  const bytes: number[] = [];
  for (let i = 1; i < text.length; i += 1) {
    const char = text[i]!;
    if (char === '"') return { path: Buffer.from(bytes).toString('utf8'), rest: text.slice(i + 1) };
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = text[i + 1] ?? '';
    if (/[0-3]/.test(next) && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (next in ESCAPES) {
      bytes.push(ESCAPES[next]!);
      i += 1;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A whole path field (`+++ b/src/x.ts`, `rename from old name.txt`): unquoted when quoted, `prefix`
 * removed, and the tab git appends to names containing a space dropped.
 */
export function parsePathField(field: string, prefix = ''): string {
  const quoted = readQuotedPath(field);
  let path = quoted ? quoted.path : field.endsWith('\t') ? field.slice(0, -1) : field;
  if (prefix && path.startsWith(prefix)) path = path.slice(prefix.length);
  return path;
}

/**
 * The two names of a `diff --git a/X b/Y` line. Unquoted names containing spaces are ambiguous; when
 * both are the same (no rename) the line splits in the middle, otherwise the rename headers that
 * follow tell, and undefined is returned here.
 */
export function parseDiffGitNames(names: string): { from: string; to: string } | undefined {
  const first = readQuotedPath(names);
  if (first) {
    const rest = first.rest.replace(/^ /, '');
    const second = readQuotedPath(rest);
    return { from: strip(first.path, 'a/'), to: strip(second ? second.path : rest, 'b/') };
  }
  const quotedSecond = names.indexOf(' "b/');
  if (quotedSecond >= 0) {
    const second = readQuotedPath(names.slice(quotedSecond + 1));
    if (second) return { from: strip(names.slice(0, quotedSecond), 'a/'), to: strip(second.path, 'b/') };
  }
  if ((names.length - 1) % 2 === 0) {
    const half = (names.length - 1) / 2;
    const from = names.slice(0, half);
    const to = names.slice(half + 1);
    if (names[half] === ' ' && from.startsWith('a/') && to.startsWith('b/') && from.slice(2) === to.slice(2)) {
      return { from: from.slice(2), to: to.slice(2) };
    }
  }
  return undefined;
}

function strip(path: string, prefix: string): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
