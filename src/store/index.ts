export { openStore, storeTargetFrom, MIGRATIONS_DIR, type Database, type Store, type StoreTarget } from './open.ts';
export { readStoreLockOwner } from './lock.ts';
export * as tables from './schema.ts';
export type { ApprovalKind, RecordedDbStatement, RequestOutcome } from './schema.ts';
