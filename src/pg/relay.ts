import type { Socket } from 'node:net';
import {
  BackendType,
  FrontendType,
  decodeBind,
  decodeClose,
  decodeCommandComplete,
  decodeCopyResponse,
  decodeDescribe,
  decodeExecute,
  decodeFunctionCall,
  decodeNoticeFields,
  decodeNotificationResponse,
  decodeParse,
  decodeQuery,
  decodeReadyForQuery,
  decodeRowDescription,
  encodeBind,
  encodeCommandComplete,
  encodeDescribe,
  encodeErrorResponse,
  encodeMessage,
  encodeNoticeFieldsFrom,
  encodeNoticeResponse,
  encodeNotificationResponse,
  encodeParse,
  encodeQuery,
  rowCountOf,
  type MessageFramer,
  type PgMessage,
  type RowField,
} from './codec/index.ts';
import { refusalFields } from './refusal-fields.ts';
import type { PgRefusal } from './refusal.ts';
import type { ResultMasking, ResultPlan, StatementDecision, StatementGuard, StatementPart, StatementRecorder, Verdict } from './session-seams.ts';
import { OutputBatch } from './output-batch.ts';
import { SerialReader } from './serial-reader.ts';

/**
 * The PostgreSQL connection state machine after login: every client message is judged before it
 * goes upstream, every server message is matched to the request it answers so results are masked
 * with the right plan and statements are recorded with their outcome.
 *
 * A refused statement is never answered by the gateway alone: it is replaced upstream by a message
 * that fails (a syntax error, or a Bind of a statement that does not exist), and the server's error
 * is rewritten into the refusal on the way back. The server thus moves into exactly the state a real
 * error leaves (an aborted transaction block, extended-protocol messages skipped until Sync), and
 * the client sees the gateway's reason.
 */

export interface RelayOptions {
  client: Socket;
  clientFramer: MessageFramer;
  clientPending: PgMessage[];
  upstream: Socket;
  upstreamFramer: MessageFramer;
  upstreamPending: PgMessage[];
  guard: StatementGuard;
  masking: ResultMasking;
  recorder: StatementRecorder;
  /** Rows per statement an agent may receive; null: no cap. */
  maxRows: number | null;
  /** Rows per statement recorded as the agent saw them. */
  recordRows: number;
  onBytes(direction: 'in' | 'out', count: number): void;
}

export type RelayEnd =
  | { kind: 'terminated' }
  | { kind: 'client-closed' }
  | { kind: 'upstream-closed' }
  | { kind: 'failed'; error: unknown; side: 'client' | 'upstream' };

/** Fails at parse time on every server version: the stand-in for a refused Query, Parse or FunctionCall. */
const REFUSED_SQL = 'portcullis refused this statement';
/** No statement of this name can exist (names are identifiers; this one has a NUL-free space and dash). */
const REFUSED_STATEMENT = 'portcullis refused -';

interface Run {
  part: StatementPart | null;
  protocol: 'simple' | 'extended' | 'fastpath';
  decision: StatementDecision;
  started: number;
  startedAt: Date;
  plan: ResultPlan | null;
  fields: readonly RowField[] | null;
  rows: number;
  capped: number;
  maskedValues: number;
  recordedRows: Array<Array<string | null>> | null;
  parameters: Array<string | null> | null;
  copyPlan: ResultPlan | null;
  copyBinary: boolean;
}

interface Prepared {
  text: string;
  decision: StatementDecision;
  fields: readonly RowField[] | null;
}

interface Portal {
  statement: Prepared;
  /** From Bind: 0 entries all text, 1 entry all that format, else one per column. */
  resultFormats: readonly number[];
  fields: readonly RowField[] | null;
  decision: StatementDecision;
  parameters: Array<string | null>;
}

type Expectation =
  | { kind: 'query'; runs: Run[]; index: number; refusal: PgRefusal | null }
  | { kind: 'parse'; refusal: PgRefusal | null; run: Run | null }
  | { kind: 'bind'; refusal: PgRefusal | null; run: Run | null }
  | { kind: 'describe-statement'; statement: Prepared | undefined }
  | { kind: 'describe-portal'; portal: Portal | undefined; swallow: boolean }
  | { kind: 'execute'; run: Run; portal: Portal | undefined }
  | { kind: 'close' }
  | { kind: 'sync' }
  | { kind: 'function'; run: Run; refusal: PgRefusal | null };

export function startRelay(options: RelayOptions): Promise<RelayEnd> {
  const { client, upstream, guard, masking, recorder } = options;
  const statements = new Map<string, Prepared>();
  const portals = new Map<string, Portal>();
  const expected: Expectation[] = [];
  /** The simple-query or fast-path exchange in progress, for COPY and results. */
  let copyRun: Run | null = null;
  let finished = false;
  let resolveEnd!: (end: RelayEnd) => void;
  const ended = new Promise<RelayEnd>((resolve) => (resolveEnd = resolve));

  const finish = (end: RelayEnd) => {
    if (finished) return;
    finished = true;
    resolveEnd(end);
  };

  const upstreamOut = new OutputBatch(upstream, () => clientReader.block(upstream));
  const clientOut = new OutputBatch(client, () => upstreamReader.block(client));
  const toUpstream = (frame: Buffer) => {
    options.onBytes('in', frame.length);
    upstreamOut.push(frame);
  };
  const toClient = (frame: Buffer) => {
    options.onBytes('out', frame.length);
    clientOut.push(frame);
  };
  const flush = () => {
    upstreamOut.flush();
    clientOut.flush();
  };

  const newRun = (protocol: Run['protocol'], decision: StatementDecision, part: StatementPart | null): Run => ({
    part,
    protocol,
    decision,
    started: performance.now(),
    startedAt: new Date(),
    plan: null,
    fields: null,
    rows: 0,
    capped: 0,
    maskedValues: 0,
    recordedRows: options.recordRows > 0 ? [] : null,
    parameters: null,
    copyPlan: null,
    copyBinary: false,
  });

  const record = (run: Run, outcome: { tag?: string; error?: Map<string, string> | PgRefusal }) => {
    const error = outcome.error;
    const errorCode = error instanceof Map ? (error.get('C') ?? null) : (error?.sqlstate ?? null);
    const errorMessage = error instanceof Map ? (error.get('M') ?? null) : (error?.message ?? null);
    recorder.record({
      protocol: run.protocol,
      text: masking.redactText(run.part?.text ?? ''),
      verdict: run.decision.verdict,
      rule: run.decision.rule,
      reason: run.decision.verdict === 'allow' ? null : run.decision.reason,
      approvalId: run.decision.approvalId,
      startedAt: run.startedAt,
      durationMs: Math.round(performance.now() - run.started),
      commandTag: outcome.tag ?? null,
      rowsReturned: run.rows - run.capped,
      rowsAffected: outcome.tag ? rowCountOf(outcome.tag) : null,
      maskedColumns: run.plan?.maskedColumns ?? run.copyPlan?.maskedColumns ?? [],
      maskedValues: run.maskedValues,
      parameters: run.parameters,
      errorCode,
      errorMessage,
      rows: run.recordedRows && run.recordedRows.length > 0 ? run.recordedRows : null,
    });
  };

  const refusedRecord = (protocol: Run['protocol'], decision: StatementDecision, text: string) => {
    const run = newRun(protocol, decision, { text, kind: decision.parts[0]?.kind ?? 'unknown', node: null });
    record(run, { error: decision.refusal });
  };

  // ---- client → upstream -------------------------------------------------------------------

  const onQuery = (message: PgMessage): void | Promise<void> => {
    const text = decodeQuery(message.body);
    return settle(guard.decide(text, 'run'), (decision) => {
      if (decision.allowed) {
        const parts = decision.parts.length > 0 ? decision.parts : [{ text, kind: 'EMPTY', node: null }];
        expected.push({ kind: 'query', runs: parts.map((part) => newRun('simple', decision, part)), index: 0, refusal: null });
        toUpstream(message.frame);
      } else {
        refusedRecord('simple', decision, text);
        expected.push({ kind: 'query', runs: [], index: 0, refusal: decision.refusal! });
        toUpstream(encodeQuery(REFUSED_SQL));
      }
    });
  };

  const onParse = (message: PgMessage): void | Promise<void> => {
    const parse = decodeParse(message.body);
    return settle(guard.decide(parse.query, 'prepare'), (decision) => {
      // A verdict that waits for the parameters is taken at Bind; the statement itself may be prepared.
      if (decision.allowed || decision.dependsOnParameters) {
        statements.set(parse.name, { text: parse.query, decision, fields: null });
        expected.push({ kind: 'parse', refusal: null, run: null });
        toUpstream(message.frame);
      } else {
        statements.delete(parse.name);
        refusedRecord('extended', decision, parse.query);
        expected.push({ kind: 'parse', refusal: decision.refusal!, run: null });
        toUpstream(encodeParse({ name: parse.name, query: REFUSED_SQL, parameterTypes: [] }));
      }
    });
  };

  const onBind = (message: PgMessage): void | Promise<void> => {
    const bind = decodeBind(message.body);
    const statement = statements.get(bind.statement);
    if (!statement) {
      // Unknown to the gateway means unknown upstream too: the server answers with its own error.
      expected.push({ kind: 'bind', refusal: null, run: null });
      toUpstream(message.frame);
      return;
    }
    const parameters = masking.redactParameters(bind.parameters, bind.parameterFormats);
    const needsBoundDecision = statement.decision.dependsOnParameters || statement.decision.verdict === 'hold';
    const decided = needsBoundDecision ? guard.decideBound(statement.text, textParameters(bind.parameters, bind.parameterFormats)) : statement.decision;
    return settle(decided, (decision) => {
      if (decision.allowed) {
        portals.set(bind.portal, { statement, resultFormats: bind.resultFormats, fields: null, decision, parameters });
        expected.push({ kind: 'bind', refusal: null, run: null });
        toUpstream(message.frame);
      } else {
        portals.delete(bind.portal);
        refusedRecord('extended', decision, statement.text);
        expected.push({ kind: 'bind', refusal: decision.refusal!, run: null });
        toUpstream(encodeBind({ portal: bind.portal, statement: REFUSED_STATEMENT, parameterFormats: [], parameters: [], resultFormats: [] }));
      }
    });
  };

  const onDescribe = (message: PgMessage) => {
    const describe = decodeDescribe(message.body);
    if (describe.target === 'statement') expected.push({ kind: 'describe-statement', statement: statements.get(describe.name) });
    else expected.push({ kind: 'describe-portal', portal: portals.get(describe.name), swallow: false });
    toUpstream(message.frame);
  };

  const onExecute = (message: PgMessage) => {
    const { portal: name } = decodeExecute(message.body);
    const portal = portals.get(name);
    const decision = portal?.decision ?? portalUnknown;
    const run = newRun('extended', decision, portal ? (portal.statement.decision.parts[0] ?? null) : null);
    if (portal) {
      run.parameters = portal.parameters;
      if (!portal.fields && !portal.statement.fields) {
        // Without a Describe the gateway would not know the columns it has to mask: ask, and keep the answer.
        expected.push({ kind: 'describe-portal', portal, swallow: true });
        toUpstream(encodeDescribe('portal', name));
      }
    }
    expected.push({ kind: 'execute', run, portal });
    toUpstream(message.frame);
  };

  const onClose = (message: PgMessage) => {
    const close = decodeClose(message.body);
    if (close.target === 'statement') statements.delete(close.name);
    else portals.delete(close.name);
    expected.push({ kind: 'close' });
    toUpstream(message.frame);
  };

  const onFunctionCall = (message: PgMessage) => {
    const { functionOid } = decodeFunctionCall(message.body);
    const decision = guard.decideFunctionCall(functionOid);
    const run = newRun('fastpath', decision, { text: `FunctionCall oid ${functionOid}`, kind: 'FUNCTION CALL', node: null });
    if (decision.allowed) {
      expected.push({ kind: 'function', run, refusal: null });
      toUpstream(message.frame);
    } else {
      record(run, { error: decision.refusal });
      expected.push({ kind: 'function', run, refusal: decision.refusal! });
      toUpstream(encodeQuery(REFUSED_SQL));
    }
  };

  const onClientMessage = (message: PgMessage): void | Promise<void> => {
    switch (message.type) {
      case FrontendType.Query:
        return onQuery(message);
      case FrontendType.Parse:
        return onParse(message);
      case FrontendType.Bind:
        return onBind(message);
      case FrontendType.Describe:
        return onDescribe(message);
      case FrontendType.Execute:
        return onExecute(message);
      case FrontendType.Close:
        return onClose(message);
      case FrontendType.Sync:
        expected.push({ kind: 'sync' });
        return toUpstream(message.frame);
      case FrontendType.FunctionCall:
        return onFunctionCall(message);
      case FrontendType.Terminate:
        toUpstream(message.frame);
        flush();
        upstream.end();
        return finish({ kind: 'terminated' });
      default:
        // Flush, CopyData, CopyDone, CopyFail: nothing to judge; the server validates their order.
        return toUpstream(message.frame);
    }
  };

  // ---- upstream → client -------------------------------------------------------------------

  const currentRun = (): { run: Run; fields: readonly RowField[] | null } | null => {
    const head = expected[0];
    if (!head) return null;
    if (head.kind === 'query') {
      const run = head.runs[head.index];
      return run ? { run, fields: run.fields } : null;
    }
    if (head.kind === 'execute') return { run: head.run, fields: head.run.fields ?? portalFields(head.portal) };
    if (head.kind === 'function') return { run: head.run, fields: null };
    return null;
  };

  const ensurePlan = (run: Run, fields: readonly RowField[] | null): void | Promise<void> => {
    if (run.plan) return;
    return settle(masking.planRows(run.part, fields ?? []), (plan) => {
      run.plan = plan;
      run.fields = fields;
    });
  };

  const completeRun = (run: Run, outcome: { tag?: string; error?: Map<string, string> }) => {
    if (outcome.tag && run.capped > 0) {
      toClient(encodeNoticeResponse({ severity: 'NOTICE', code: '01000', message: `portcullis: ${run.capped} more rows were not sent (sql.maxRows is ${options.maxRows})` }));
    }
    record(run, outcome);
  };

  const popUntilSync = () => {
    while (expected.length > 0 && expected[0]!.kind !== 'sync') expected.shift();
  };

  /** The hot path: one call per row of every result, so no closure or object per row once planned. */
  const forwardRow = (run: Run, message: PgMessage) => {
    run.rows++;
    if (options.maxRows !== null && run.rows > options.maxRows) {
      run.capped++;
      return;
    }
    let frame = message.frame;
    if (run.plan!.rowWork) {
      const masked = masking.maskRow(message.body, run.plan!);
      if (masked.body) {
        frame = encodeMessage(BackendType.DataRow, masked.body);
        run.maskedValues += masked.masked;
      }
    }
    if (run.recordedRows && run.recordedRows.length < options.recordRows) {
      run.recordedRows.push(masking.rowText(frame.subarray(5), run.fields ?? []));
    }
    toClient(frame);
  };

  const onDataRow = (message: PgMessage): void | Promise<void> => {
    const head = expected[0];
    const run = head?.kind === 'query' ? head.runs[head.index] : head?.kind === 'execute' ? head.run : undefined;
    if (!run) return toClient(message.frame);
    if (run.plan) return forwardRow(run, message);
    const fields = head!.kind === 'execute' ? (run.fields ?? portalFields(head!.portal)) : run.fields;
    return settle(ensurePlan(run, fields), () => forwardRow(run, message));
  };

  const onRowDescription = (message: PgMessage): void | Promise<void> => {
    const head = expected[0];
    const fields = decodeRowDescription(message.body);
    if (head?.kind === 'describe-statement') {
      if (head.statement) head.statement.fields = fields;
      expected.shift();
    } else if (head?.kind === 'describe-portal') {
      if (head.portal) head.portal.fields = fields;
      expected.shift();
      if (head.swallow) return;
    } else if (head?.kind === 'query') {
      const run = head.runs[head.index];
      if (run) {
        run.fields = fields;
        run.plan = null;
        toClient(message.frame);
        return ensurePlan(run, fields);
      }
    }
    toClient(message.frame);
  };

  const onCommandComplete = (message: PgMessage) => {
    const head = expected[0];
    let tag = decodeCommandComplete(message.body);
    const current = currentRun();
    if (current && current.run.capped > 0 && /^(SELECT|FETCH|COPY) /.test(tag)) {
      tag = tag.replace(/\d+$/, String(current.run.rows - current.run.capped));
    }
    if (current) completeRun(current.run, { tag });
    if (head?.kind === 'query') head.index++;
    else if (head?.kind === 'execute') expected.shift();
    toClient(current?.run.capped ? encodeCommandComplete(tag) : message.frame);
    copyRun = null;
  };

  const onErrorResponse = (message: PgMessage) => {
    const head = expected[0];
    const refusal = head && 'refusal' in head ? head.refusal : null;
    if (refusal) {
      toClient(encodeErrorResponse(refusalFields(refusal)));
    } else {
      const fields = decodeNoticeFields(message.body);
      const changed = masking.maskFields(fields);
      const current = currentRun();
      if (current) completeRun(current.run, { error: fields });
      toClient(changed ? encodeNoticeFieldsFrom(BackendType.ErrorResponse, fields) : message.frame);
    }
    copyRun = null;
    if (!head) return;
    if (head.kind === 'query') head.index = head.runs.length;
    else if (head.kind === 'function') head.refusal = null;
    else popUntilSync();
  };

  const onCopyOut = (message: PgMessage): void | Promise<void> => {
    const current = currentRun();
    toClient(message.frame);
    if (!current) return;
    copyRun = current.run;
    const response = decodeCopyResponse(message.body);
    current.run.copyBinary = response.format === 1;
    return settle(masking.planCopy(current.run.part, response.columnFormats.length, response.format === 1), (plan) => {
      current.run.copyPlan = plan;
    });
  };

  const onCopyData = (message: PgMessage) => {
    const run = copyRun;
    if (run && !run.copyBinary) {
      // Text and CSV COPY send one row per CopyData, so sql.maxRows caps them like DataRows. A binary
      // COPY's header and trailer ride in the same messages as rows: it is not capped.
      run.rows++;
      if (options.maxRows !== null && run.rows > options.maxRows) {
        run.capped++;
        return;
      }
    }
    if (!run?.copyPlan?.rowWork) return toClient(message.frame);
    const masked = masking.maskCopy(message.body, run.copyPlan);
    if (!masked.data) return toClient(message.frame);
    run.maskedValues += masked.masked;
    toClient(encodeMessage(BackendType.CopyData, masked.data));
  };

  const onUpstreamMessage = (message: PgMessage): void | Promise<void> => {
    switch (message.type) {
      case BackendType.DataRow:
        return onDataRow(message);
      case BackendType.RowDescription:
        return onRowDescription(message);
      case BackendType.CommandComplete:
        return onCommandComplete(message);
      case BackendType.EmptyQueryResponse:
      case BackendType.PortalSuspended: {
        const head = expected[0];
        const current = currentRun();
        if (current) completeRun(current.run, {});
        if (head?.kind === 'query') head.index++;
        else if (head?.kind === 'execute') expected.shift();
        return toClient(message.frame);
      }
      case BackendType.ErrorResponse:
        return onErrorResponse(message);
      case BackendType.NoticeResponse: {
        const fields = decodeNoticeFields(message.body);
        return toClient(masking.maskFields(fields) ? encodeNoticeFieldsFrom(BackendType.NoticeResponse, fields) : message.frame);
      }
      case BackendType.NoData: {
        const head = expected[0];
        if (head?.kind === 'describe-statement' || head?.kind === 'describe-portal') {
          if (head.kind === 'describe-statement' && head.statement) head.statement.fields = [];
          if (head.kind === 'describe-portal' && head.portal) head.portal.fields = [];
          expected.shift();
          if (head.kind === 'describe-portal' && head.swallow) return;
        }
        return toClient(message.frame);
      }
      case BackendType.ParseComplete:
      case BackendType.BindComplete:
      case BackendType.CloseComplete:
        expected.shift();
        return toClient(message.frame);
      case BackendType.FunctionCallResponse: {
        const head = expected[0];
        if (head?.kind === 'function') record(head.run, { tag: 'FUNCTION CALL' });
        return toClient(message.frame);
      }
      case BackendType.CopyOutResponse:
      case BackendType.CopyBothResponse:
        return onCopyOut(message);
      case BackendType.CopyData:
        return onCopyData(message);
      case BackendType.ReadyForQuery: {
        decodeReadyForQuery(message.body);
        const head = expected.shift();
        if (head?.kind === 'query') {
          // A Query whose statements never ran (an earlier one failed) is not recorded as run.
          head.index = head.runs.length;
        }
        return toClient(message.frame);
      }
      case BackendType.NotificationResponse: {
        // NOTIFY payloads are values too: the detectors run on them like on any text result.
        const notification = decodeNotificationResponse(message.body);
        const payload = masking.redactText(notification.payload);
        return toClient(payload === notification.payload ? message.frame : encodeNotificationResponse(notification.processId, notification.channel, payload));
      }
      default:
        // ParameterStatus, ParameterDescription, CopyInResponse, CopyDone, BackendKeyData.
        return toClient(message.frame);
    }
  };

  const clientReader = new SerialReader(client, options.clientFramer, onClientMessage, {
    onBatch: flush,
    onEnd: () => finish({ kind: 'client-closed' }),
    onError: (error) => finish({ kind: 'failed', error, side: 'client' }),
  });
  const upstreamReader = new SerialReader(upstream, options.upstreamFramer, onUpstreamMessage, {
    onBatch: flush,
    onEnd: () => finish({ kind: 'upstream-closed' }),
    onError: (error) => finish({ kind: 'failed', error, side: 'upstream' }),
  });
  clientReader.start(options.clientPending);
  upstreamReader.start(options.upstreamPending);
  return ended.finally(() => {
    clientReader.stop();
    upstreamReader.stop();
  });
}

const portalUnknown: StatementDecision = {
  allowed: true,
  verdict: 'allow' satisfies Verdict,
  rule: null,
  reason: 'portal unknown to the gateway; the server answers',
  parts: [],
  approvalId: null,
  dependsOnParameters: false,
};

function portalFields(portal: Portal | undefined): readonly RowField[] | null {
  if (!portal) return null;
  if (portal.fields) return portal.fields;
  const fields = portal.statement.fields;
  if (!fields) return null;
  const formats = portal.resultFormats;
  return fields.map((field, index) => ({ ...field, format: (formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : (formats[index] ?? 0)) === 1 ? 1 : 0 }));
}

/** Bound values in text form for the guard (a parameter bound to true makes `WHERE $1` no WHERE). */
function textParameters(values: ReadonlyArray<Buffer | null>, formats: readonly number[]): Array<string | null> {
  return values.map((value, index) => {
    if (value === null) return null;
    const format = formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : formats[index];
    if (format !== 1) return value.toString('utf8');
    // Binary: booleans are one byte; other types are not read as text (the guard treats them as unknown).
    return value.length === 1 ? (value[0] === 1 ? 'true' : value[0] === 0 ? 'false' : '') : '';
  });
}

/** Runs `then` on a value now, or after it resolves: the relay stays synchronous on its hot path. */
function settle<T>(value: T | Promise<T>, then: (value: T) => void): void | Promise<void> {
  if (value instanceof Promise) return value.then(then);
  then(value);
}
