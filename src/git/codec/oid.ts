/**
 * Object ids on the wire: https://git-scm.com/docs/gitprotocol-common#_abnf_notation
 * (`obj-id`, `zero-id`) and https://git-scm.com/docs/hash-function-transition (sha256 ids).
 *
 * Only lower-case hex is accepted. git itself never sends upper case, and policy code compares
 * ids as strings, so `ABC…` and `abc…` naming the same object must not both get through.
 */

/** The sha1 zero id: as an old id it means "create", as a new id "delete". */
export const ZERO_OID = '0'.repeat(40);

const OID_PATTERN = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A sha1 (40 hex) or sha256 (64 hex) object id. */
export function isOid(value: string): boolean {
  return OID_PATTERN.test(value);
}

/** True for the all-zero id of either hash function. */
export function isZeroOid(oid: string): boolean {
  return isOid(oid) && /^0+$/.test(oid);
}
