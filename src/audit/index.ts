export {
  createSessionRecorder,
  type RecordedFinding,
  type RecordedRequest,
  type RecordedSession,
  type RequestEnd,
  type RequestStart,
  type SessionFilter,
  type SessionRecorder,
  type SessionStart,
} from './session-recorder.ts';
export { createMetrics, type DbStatementObservation, type GitRequestObservation, type Metrics } from './metrics.ts';
export { createDbSessionLog, summarizeDbSession, type DbSessionSummary, type DbSessionLog, type DbSessionOpening, type DbStatementRow, type RecordedDbSession, type RecordedDbStatement } from './db-session-log.ts';
