import type { AuditEventBody } from '../chain/index.ts';

/**
 * What is hashed must be exactly what the store gives back, so an event is normalised BEFORE it is
 * hashed and stored:
 *
 * - PostgreSQL text and jsonb cannot hold U+0000, nor unpaired UTF-16 surrogates: NUL becomes
 *   U+FFFD and lone surrogates become U+FFFD (String.prototype.toWellFormed), in keys and values.
 * - Numbers: jsonb keeps a number as an exact decimal, and JSON.stringify prints a double's
 *   shortest round-tripping form, so every finite double reads back identical (2^60, 1e300, 5e-324
 *   included). -0 becomes 0 (JSON has no -0); NaN and ±Infinity become null, as in JSON.stringify.
 * - bigint: a safe integer becomes a number, any other a decimal string (a double would round it).
 * - undefined, functions and symbols are left out of objects and become null in arrays; objects
 *   with toJSON (Date) are replaced by its result; Map/Set and other objects keep their own
 *   enumerable properties only, as JSON.stringify does.
 */
export function normaliseBody(body: AuditEventBody): AuditEventBody {
  return {
    type: cleanString(body.type),
    at: body.at,
    actor: body.actor === null ? null : cleanString(body.actor),
    subject: body.subject === null ? null : cleanString(body.subject),
    data: normaliseObject(body.data ?? {}),
  };
}

export function normaliseJsonValue(value: unknown): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return cleanString(value);
    case 'number':
      return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
    case 'boolean':
      return value;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object': {
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return normaliseJsonValue(withToJson.toJSON());
      if (Array.isArray(value)) return value.map((item) => (omitted(item) ? null : normaliseJsonValue(item)));
      return normaliseObject(value as Record<string, unknown>);
    }
    default:
      return undefined;
  }
}

function normaliseObject(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    if (omitted(item)) continue;
    out[cleanString(key)] = normaliseJsonValue(item);
  }
  return out;
}

function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function cleanString(text: string): string {
  const wellFormed = (text as string & { toWellFormed(): string }).toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\uFFFD') : wellFormed;
}
