import type { NoticeFields } from './codec/index.ts';
import type { PgRefusal } from './refusal.ts';

/** A refusal as ErrorResponse fields: what psql prints as ERROR/FATAL, DETAIL-less, with a HINT. */
export function refusalFields(refusal: PgRefusal): NoticeFields {
  return {
    severity: refusal.severity,
    code: refusal.sqlstate,
    message: refusal.message,
    ...(refusal.hint ? { hint: refusal.hint } : {}),
  };
}
