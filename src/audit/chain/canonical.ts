/**
 * Canonical JSON: the one byte-exact text of a value that the audit chain hashes and signs.
 *
 * - object keys sorted by UTF-16 code unit order (the default `Array.prototype.sort`), no whitespace;
 * - strings and numbers written as `JSON.stringify` writes them (so `-0` becomes `0`);
 * - properties whose value is `undefined` are dropped and `undefined` array items become `null`,
 *   exactly as `JSON.stringify` does, so a value and its JSON round trip hash the same;
 * - `Date` becomes its ISO string;
 * - non-finite numbers, functions, symbols, bigints, Maps, Sets and cycles throw a TypeError,
 *   because JSON would silently change or drop them and the hash would no longer match the stored row.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new TypeError('canonicalJson: the value is undefined, which JSON cannot represent');
  return write(value, '$', []);
}

function write(value: unknown, path: string, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'bigint':
      throw new TypeError(`canonicalJson: ${path} is a bigint; convert it to a string or number first`);
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${path} is a ${typeof value}, which JSON cannot represent`);
  }
  if (value === null) return 'null';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError(`canonicalJson: ${path} is an invalid Date`);
    return JSON.stringify(value.toISOString());
  }
  if (value instanceof Map || value instanceof Set) {
    throw new TypeError(`canonicalJson: ${path} is a ${value instanceof Map ? 'Map' : 'Set'}; convert it to a plain object or array first`);
  }
  const object = value as object;
  if (ancestors.includes(object)) throw new TypeError(`canonicalJson: ${path} refers back to one of its ancestors (a cycle)`);
  ancestors.push(object);
  let text: string;
  if (Array.isArray(object)) {
    text = '[';
    for (let i = 0; i < object.length; i++) {
      if (i > 0) text += ',';
      text += write(object[i], `${path}[${i}]`, ancestors);
    }
    text += ']';
  } else {
    const record = object as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    text = '{';
    let first = true;
    for (const key of keys) {
      const item = record[key];
      if (item === undefined) continue;
      if (!first) text += ',';
      first = false;
      text += JSON.stringify(key) + ':' + write(item, `${path}.${key}`, ancestors);
    }
    text += '}';
  }
  ancestors.pop();
  return text;
}
