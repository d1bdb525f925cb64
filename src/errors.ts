/**
 * One error base for everything a user can hit. `userMessage` says what happened and what to do;
 * it never holds a secret. Each protocol renders it natively (git: text/plain `remote:` lines,
 * HTTP API: `{ error: { code, message } }`, later pg: ErrorResponse).
 */
export type ErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'AUTH_REQUIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'SCOPE_MISSING'
  | 'REMOTE_UNKNOWN'
  | 'REPO_PATH_INVALID'
  | 'SERVICE_INVALID'
  | 'REQUEST_TOO_LARGE'
  | 'PKT_LINE_INVALID'
  | 'PKT_LINE_TOO_LONG'
  | 'PKT_LINE_TRUNCATED'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_AUTH_FAILED'
  | 'UPSTREAM_NOT_FOUND'
  | 'UPSTREAM_ERROR'
  | 'AGENT_EXISTS'
  | 'AGENT_NOT_FOUND'
  | 'SESSION_NOT_FOUND'
  | 'STORE_UNAVAILABLE'
  | 'OIDC_INVALID'
  | 'APPROVAL_NOT_FOUND'
  | 'APPROVAL_REFUSED'
  | 'PUSH_TOO_LARGE'
  | 'PACK_INVALID'
  | 'MIRROR_FETCH_FAILED'
  | 'PUSH_INSPECTION_FAILED'
  | 'SCAN_FAILED'
  | 'POLICY_INVALID'
  | 'APPLY_FAILED'
  | 'GITHUB_APP_NOT_CONFIGURED'
  | 'GITHUB_APP_NOT_INSTALLED'
  | 'GITHUB_API_FAILED'
  | 'WEBHOOK_SIGNATURE_INVALID'
  | 'WEBHOOK_INVALID';

const httpStatusByCode: Partial<Record<ErrorCode, number>> = {
  AUTH_REQUIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  OIDC_INVALID: 401,
  SCOPE_MISSING: 403,
  REMOTE_UNKNOWN: 404,
  REPO_PATH_INVALID: 400,
  SERVICE_INVALID: 400,
  PKT_LINE_INVALID: 400,
  PKT_LINE_TOO_LONG: 400,
  PKT_LINE_TRUNCATED: 400,
  REQUEST_TOO_LARGE: 413,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_AUTH_FAILED: 502,
  UPSTREAM_ERROR: 502,
  UPSTREAM_TIMEOUT: 504,
  UPSTREAM_NOT_FOUND: 404,
  AGENT_EXISTS: 409,
  AGENT_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  APPROVAL_NOT_FOUND: 404,
  APPROVAL_REFUSED: 409,
  PUSH_TOO_LARGE: 413,
  PACK_INVALID: 400,
  MIRROR_FETCH_FAILED: 502,
  SCAN_FAILED: 503,
  APPLY_FAILED: 502,
  STORE_UNAVAILABLE: 503,
  GITHUB_APP_NOT_CONFIGURED: 404,
  GITHUB_APP_NOT_INSTALLED: 403,
  GITHUB_API_FAILED: 502,
  WEBHOOK_SIGNATURE_INVALID: 401,
  WEBHOOK_INVALID: 400,
};

export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, userMessage: string, options: { hint?: string; cause?: unknown } = {}) {
    super(userMessage, { cause: options.cause });
    this.name = 'PortcullisError';
    this.code = code;
    this.userMessage = userMessage;
    this.hint = options.hint;
  }

  get httpStatus(): number {
    return httpStatusByCode[this.code] ?? 500;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.userMessage, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export function isPortcullisError(error: unknown): error is PortcullisError {
  return error instanceof PortcullisError;
}
