export { createAuditLog, PRUNE_EVENT, type AppendInput, type AuditLog, type AuditLogOptions, type ExportOptions, type PruneResult } from './audit-log.ts';
export { loadOrCreateSigningKey, readPublicKeyFile, signingKeyFromPem, type SigningKey } from './signing-key.ts';
export { normaliseBody, normaliseJsonValue } from './normalise.ts';
