export {
  FINAL_STATUSES,
  isFinal,
  transition,
  type Approval,
  type ApprovalEvent,
  type ApprovalRefusalKind,
  type ApprovalStatus,
  type TransitionResult,
} from './state.ts';
export { createApprovalStore, HELD_REF_PREFIX, type ApprovalStore, type HoldRequest, type StoredApproval } from './store.ts';
export { noHoldEvents, type HoldEvents } from './hold-events.ts';
