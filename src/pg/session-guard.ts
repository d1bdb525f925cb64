import { createHash } from 'node:crypto';
import type { ApprovalStore, StoredApproval } from '../approvals/index.ts';
import type { Clock } from '../clock.ts';
import type { SqlPolicy } from '../policy/index.ts';
import { PgRefusal } from './refusal.ts';
import type { StatementDecision, StatementGuard, StatementPart } from './session-seams.ts';
import { classifyParsed, type SqlJudgement } from './sql/classify.ts';
import { normalizeSql, parseSql, type ParseResult } from './sql/parser.ts';
import { verdictForRule } from './sql/rules.ts';

export interface SessionGuardDeps {
  agent: string;
  database: string;
  sessionId: string;
  readOnly: boolean;
  policy: SqlPolicy;
  approvals: ApprovalStore;
  /** How long after its approval a held statement may run (once). */
  approvalWindowMs: number;
  /** How long a held statement waits for a decision before it expires. */
  approvalTtlMs: number;
  /** Base tables of a view, when the catalog knows them; prefetch makes it know. */
  viewBases(qualifiedName: string): readonly string[] | null | undefined;
  prefetchRelations(names: readonly string[]): Promise<void>;
  /** Tells the client something now (a NoticeResponse), e.g. that a statement waits for approval. */
  notice(message: string): void;
  /** Non-null while statements cannot be recorded: then none runs. */
  recordingFailure(): Error | null;
  redactText(text: string): string;
  clock: Clock;
}

interface Analysis {
  judgement: SqlJudgement;
  parts: StatementPart[];
}

/** Verdicts cached per session by normalized text: pgbench's literals change on every query, its normalized text does not. */
const CACHE_LIMIT = 2_000;
const WAIT_POLL_MS = 500;

/**
 * One database session's statement guard: parse with the real parser, classify every statement of
 * the string, then allow, block or hold. A held statement becomes an approval in the one store the
 * CLI, REST API and console decide in; once approved, the same text by the same agent on the same
 * database runs once within the approval window.
 */
export function createSessionGuard(deps: SessionGuardDeps): StatementGuard {
  const cache = new Map<string, Analysis>();
  /** SQL-level PREPARE name → its judgement, for EXECUTE name. */
  const prepared = new Map<string, SqlJudgement>();

  const analyse = (text: string, tree: ParseResult, parameters?: ReadonlyArray<string | null>): Analysis => {
    const judgement = classifyParsed(tree, {
      policy: deps.policy,
      preparedStatement: (name) => prepared.get(name),
      ...(parameters ? { parameterText: (index: number) => parameters[index - 1] } : {}),
      viewBases: deps.viewBases,
    });
    const readOnlyBreach = deps.readOnly ? breaksReadOnly(tree) : null;
    const final = readOnlyBreach ? { ...judgement, verdict: 'block' as const, rule: 'read-only-session', reason: readOnlyBreach } : judgement;
    return { judgement: final, parts: partsOf(text, tree, final) };
  };

  const judge = (text: string, parameters?: ReadonlyArray<string | null>): Analysis | Promise<Analysis> => {
    const key = parameters ? null : normalizeSql(text);
    const cached = key === null ? undefined : cache.get(key);
    // Same normalized text, other literals: the tree's shape (all masking needs) is the same; the text is this one.
    if (cached) return { judgement: cached.judgement, parts: [{ ...cached.parts[0]!, text }] };
    const parsed = parseSql(text);
    if (!parsed.ok) {
      const judgement = unparsable(parsed.message);
      return { judgement, parts: [{ text, kind: 'UNPARSABLE', node: null }] };
    }
    const first = analyse(text, parsed.tree, parameters);
    const unknownViews = deps.policy.protectedTables.length > 0 && first.judgement.relations.some((name) => deps.viewBases(name) === undefined);
    const finish = (analysis: Analysis) => {
      const { judgement } = analysis;
      const cacheable = key !== null && analysis.parts.length === 1 && !judgement.dependsOnConstants && !judgement.dependsOnParameters && judgement.prepares.length === 0 && judgement.deallocates.length === 0 && !mentionsExecute(parsed.tree);
      if (cacheable) {
        if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
        cache.set(key, analysis);
      }
      for (const statement of judgement.prepares) prepared.set(statement.name, statement.judgement);
      if (judgement.deallocates === 'all') prepared.clear();
      else for (const name of judgement.deallocates) prepared.delete(name);
      return analysis;
    };
    if (!unknownViews) return finish(first);
    // Protected tables are matched through views: learn the views this statement names, then judge again.
    return deps.prefetchRelations(first.judgement.relations).then(() => finish(analyse(text, parsed.tree, parameters)));
  };

  const settleVerdict = (text: string, analysis: Analysis, mode: 'run' | 'prepare'): StatementDecision | Promise<StatementDecision> => {
    const failure = deps.recordingFailure();
    if (failure) return refused(analysis, new PgRefusal('58000', 'portcullis cannot record statements right now, so it runs none', 'retry in a moment; an administrator can check the gateway store'));
    const { judgement } = analysis;
    if (judgement.verdict === 'allow') return allowed(analysis, null);
    if (judgement.verdict === 'block') {
      return refused(analysis, new PgRefusal('42501', `portcullis blocked this statement (rule ${judgement.rule}): ${judgement.reason}`, `if it is needed, a maintainer can change the sql policy for database ${deps.database}`));
    }
    return hold(text, analysis, mode);
  };

  const hold = async (text: string, analysis: Analysis, mode: 'run' | 'prepare'): Promise<StatementDecision> => {
    const digest = createHash('sha256').update(text).digest('hex');
    const approved = mode === 'run' ? await deps.approvals.consumeSqlApproval(deps.agent, deps.database, digest, deps.approvalWindowMs) : await deps.approvals.unusedSqlApproval(deps.agent, deps.database, digest, deps.approvalWindowMs);
    if (approved) return allowed(analysis, approved.id);
    const approval = (await deps.approvals.pendingSqlHold(deps.agent, deps.database, digest)) ?? (await createHold(text, digest, analysis));
    if (deps.policy.holdMode === 'wait') return waitForDecision(text, analysis, approval, mode);
    return refused(analysis, heldRefusal(approval, analysis), approval.id);
  };

  const createHold = (text: string, digest: string, analysis: Analysis) =>
    deps.approvals.createHold({
      kind: 'sql',
      sessionId: null,
      agent: deps.agent,
      remote: 'postgres',
      owner: deps.database,
      repo: '',
      ref: analysis.judgement.statements.map((statement) => statement.kind).join('; ') || 'SQL',
      oldOid: '',
      newOid: digest,
      reasons: [analysis.judgement.reason],
      summary: { statement: deps.redactText(text), rule: analysis.judgement.rule, database: deps.database, dbSessionId: deps.sessionId },
      ttlMs: deps.approvalTtlMs,
    });

  const waitForDecision = async (text: string, analysis: Analysis, approval: StoredApproval, mode: 'run' | 'prepare'): Promise<StatementDecision> => {
    const deadline = deps.clock.now().getTime() + deps.policy.holdTimeout.ms;
    deps.notice(`portcullis: this statement is held for approval ${approval.id} (${analysis.judgement.reason}); waiting up to ${deps.policy.holdTimeout.text} for a decision: portcullis approvals approve ${approval.id}`);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      const current = await deps.approvals.get(approval.id);
      if (current.status === 'approved') {
        if (mode === 'prepare') return allowed(analysis, current.id);
        const consumed = await deps.approvals.consumeSqlApproval(deps.agent, deps.database, current.newOid, deps.approvalWindowMs);
        if (consumed) return allowed(analysis, consumed.id);
      }
      if (current.status !== 'pending' && current.status !== 'approved') {
        return refused(analysis, new PgRefusal('42501', `portcullis: approval ${current.id} was ${current.status}${current.decidedBy ? ` by ${current.decidedBy}` : ''}${current.comment ? `: ${current.comment}` : ''}; the statement did not run`), current.id);
      }
      if (deps.clock.now().getTime() >= deadline) {
        return refused(analysis, new PgRefusal('57014', `portcullis: no decision on approval ${approval.id} within ${deps.policy.holdTimeout.text}; the statement did not run`, `once it is approved, run the same statement again within the approval window`), approval.id);
      }
    }
  };

  return {
    decide(text, mode) {
      const analysis = judge(text);
      return analysis instanceof Promise ? analysis.then((a) => settleVerdict(text, a, mode)) : settleVerdict(text, analysis, mode);
    },
    decideBound(text, parameters) {
      const analysis = judge(text, parameters);
      return analysis instanceof Promise ? analysis.then((a) => settleVerdict(text, a, 'run')) : settleVerdict(text, analysis, 'run');
    },
    decideFunctionCall(functionOid) {
      const verdict = verdictForRule(deps.policy, 'fastpath-function-call');
      const reason = `the FunctionCall protocol message calls function oid ${functionOid} with no SQL text to inspect`;
      const judgement: SqlJudgement = { ...unparsable(reason), verdict, rule: 'fastpath-function-call', reason };
      const analysis = { judgement, parts: [{ text: `FunctionCall(${functionOid})`, kind: 'FUNCTION CALL', node: null }] };
      if (verdict === 'allow') return allowed(analysis, null);
      return refused(analysis, new PgRefusal('42501', `portcullis blocked this statement (rule fastpath-function-call): ${reason}`, 'call the function in SQL instead (SELECT fn(...)), where it can be judged'));
    },
  };
}

function allowed(analysis: Analysis, approvalId: string | null): StatementDecision {
  const { judgement } = analysis;
  return { allowed: true, verdict: judgement.verdict, rule: judgement.rule, reason: judgement.reason, parts: analysis.parts, approvalId, dependsOnParameters: judgement.dependsOnParameters };
}

function refused(analysis: Analysis, refusal: PgRefusal, approvalId: string | null = null): StatementDecision {
  const { judgement } = analysis;
  return { allowed: false, verdict: judgement.verdict, rule: judgement.rule, reason: judgement.reason, parts: analysis.parts, approvalId, refusal, dependsOnParameters: judgement.dependsOnParameters };
}

function heldRefusal(approval: StoredApproval, analysis: Analysis): PgRefusal {
  return new PgRefusal(
    '42501',
    `portcullis held this statement for approval ${approval.id} (rule ${analysis.judgement.rule}): ${analysis.judgement.reason}`,
    `a maintainer can approve it (portcullis approvals approve ${approval.id}, the REST API or the console); then run exactly the same statement again`,
  );
}

function unparsable(message: string): SqlJudgement {
  return {
    verdict: 'block',
    rule: 'unparsable',
    reason: `the statement does not parse: ${message}`,
    statements: [],
    dependsOnConstants: false,
    dependsOnParameters: false,
    prepares: [],
    deallocates: [],
    relations: [],
  };
}

/** The top-level statements of a string with their own text, for recording and result masking. */
function partsOf(text: string, tree: ParseResult, judgement: SqlJudgement): StatementPart[] {
  const statements = tree.stmts ?? [];
  return statements.map((raw, index) => {
    const start = raw.stmt_location ?? 0;
    const length = raw.stmt_len ?? text.length - start;
    return { text: statements.length === 1 ? text : text.slice(start, start + length).trim(), kind: judgement.statements[index]?.kind ?? 'UNKNOWN', node: raw.stmt };
  });
}

function mentionsExecute(tree: ParseResult): boolean {
  return tree.stmts?.some((raw) => raw.stmt !== undefined && 'ExecuteStmt' in raw.stmt) ?? false;
}

const READ_ONLY_SETTINGS = new Set(['transaction_read_only', 'default_transaction_read_only']);

/**
 * In a read-only session, anything that could turn the read-only transaction mode off: SET/RESET of
 * the two settings (and SET SESSION CHARACTERISTICS / SET TRANSACTION … READ WRITE), BEGIN or START
 * TRANSACTION READ WRITE, and set_config of them (or of a name not known until run time).
 * Reading them (SHOW, current_setting) and the words inside literals are fine.
 */
function breaksReadOnly(tree: ParseResult): string | null {
  let breach: string | null = null;
  const visit = (value: unknown): void => {
    if (breach !== null || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach(visit);
    const node = value as Record<string, unknown>;
    const set = node.VariableSetStmt as { name?: string; args?: unknown[] } | undefined;
    if (set && (READ_ONLY_SETTINGS.has(set.name ?? '') || setsReadWrite(set.args))) {
      breach = 'this session is read-only (--db-read): the transaction read-only mode cannot be changed';
    }
    const transaction = node.TransactionStmt as { options?: unknown[] } | undefined;
    if (transaction && setsReadWrite(transaction.options)) breach = 'this session is read-only (--db-read): transactions cannot be READ WRITE';
    const call = node.FuncCall as { funcname?: Array<{ String?: { sval?: string } }>; args?: unknown[] } | undefined;
    if (call && call.funcname?.[call.funcname.length - 1]?.String?.sval === 'set_config') {
      const setting = (call.args?.[0] as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval?.sval;
      if (setting === undefined || READ_ONLY_SETTINGS.has(setting.toLowerCase())) breach = 'this session is read-only (--db-read): set_config cannot change the read-only mode';
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(tree.stmts);
  return breach;
}

/** A `transaction_read_only` DefElem whose value is false (READ WRITE). */
function setsReadWrite(options: unknown[] | undefined): boolean {
  return (options ?? []).some((option) => {
    const element = (option as { DefElem?: { defname?: string; arg?: unknown } }).DefElem;
    if (element?.defname !== 'transaction_read_only') return false;
    const constant = (element.arg as { A_Const?: { ival?: { ival?: number } } } | undefined)?.A_Const;
    return (constant?.ival?.ival ?? 0) === 0;
  });
}
