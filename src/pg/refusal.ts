import { PortcullisError } from '../errors.ts';

/**
 * Why the gateway answers a client with an ErrorResponse of its own: the SQLSTATE a driver can act on,
 * a message that says what happened, a hint that says what to do next. Never a secret.
 */
export class PgRefusal extends Error {
  constructor(
    readonly sqlstate: string,
    message: string,
    readonly hint?: string,
    /** FATAL ends the connection (authentication, startup); ERROR leaves it usable. */
    readonly severity: 'ERROR' | 'FATAL' = 'ERROR',
  ) {
    super(message);
  }
}

const SQLSTATE_OF: Partial<Record<string, string>> = {
  AUTH_REQUIRED: '28P01',
  TOKEN_INVALID: '28P01',
  TOKEN_EXPIRED: '28P01',
  TOKEN_REVOKED: '28P01',
  OIDC_INVALID: '28P01',
  SCOPE_MISSING: '42501',
  STORE_UNAVAILABLE: '58000',
  UPSTREAM_UNREACHABLE: '08006',
  UPSTREAM_TIMEOUT: '08006',
  UPSTREAM_AUTH_FAILED: '08006',
};

/** Any error as a refusal: a PortcullisError keeps its words; anything else becomes an internal error with a reference. */
export function asRefusal(error: unknown, severity: 'ERROR' | 'FATAL', reference: string): PgRefusal {
  if (error instanceof PgRefusal) return error;
  if (error instanceof PortcullisError) {
    return new PgRefusal(SQLSTATE_OF[error.code] ?? 'XX000', error.userMessage, error.hint, severity);
  }
  return new PgRefusal('XX000', `portcullis: internal error (ref ${reference})`, 'the gateway logged the details under this reference', severity);
}
