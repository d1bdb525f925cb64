/**
 * receive-pack's answer to a push: https://git-scm.com/docs/gitprotocol-pack#_report_status and
 * https://git-scm.com/docs/gitprotocol-pack#_report_status_v2, wrapped in side-band when negotiated
 * (https://git-scm.com/docs/gitprotocol-capabilities#_side_band_side_band_64k).
 *
 *   unpack ok | unpack <reason>
 *   ok <ref> [option refname <ref> | option old-oid <oid> | option new-oid <oid> | option forced-update]…
 *   ng <ref> <reason>
 *   flush
 *
 * With side-band the whole report, flush included, is the payload of band-1 lines; messages for
 * the user go before it on band 2, and a flush closes the response. The bytes written here are
 * those of git 2.39's receive-pack (report() / report_v2() in builtin/receive-pack.c).
 */
import { PortcullisError } from '../../errors.ts';
import { isOid } from './oid.ts';
import { decodePktLinePrefix, encodeFlush, encodePktLines, pktText, concatBytes } from './pkt-line.ts';
import type { Pkt } from './pkt-line.ts';
import { SIDE_BAND_64K_MAX, SIDE_BAND_MAX, demuxSideBand, encodeSideBand } from './side-band.ts';

export type RefStatusOptions = { refname?: string; oldOid?: string; newOid?: string; forcedUpdate?: boolean };

/**
 * One `ok`/`ng` line. In v2 a ref may be reported more than once (a proc-receive hook can turn one
 * pushed ref into several updates); each `ok` with its option lines is one entry here.
 */
export type RefStatus = { ref: string; ok: true; options?: RefStatusOptions } | { ref: string; ok: false; reason: string };

export interface ReportStatus {
  unpack: { ok: true } | { ok: false; reason: string };
  refs: Array<RefStatus>;
}

export type ReportStatusSideBand = 'none' | 'side-band' | 'side-band-64k';

export type WriteReportStatusOptions = {
  /** The client asked for `report-status-v2`; without it option lines are left out, as git does. */
  v2: boolean;
  sideBand: ReportStatusSideBand;
  /**
   * Lines git prints as `remote: <line>`, sent on band 2 before the report. Without side-band
   * they have no channel (receive-pack writes them to its own stderr) and are dropped.
   */
  progress?: string[];
};

// A ref has no space or control characters (git-check-ref-format).
const REF_PATTERN = /^[^\x00-\x20\x7f]+$/;
// Reasons end at LF (the line's end) and at NUL (git reads them as C strings); a CR would let the
// text overwrite what git printed before it on the terminal.
const BAD_TEXT_PATTERN = /[\n\r\0]/;
const textEncoder = new TextEncoder();

function invalid(line: string, why: string): PortcullisError {
  const shown = JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  return new PortcullisError('PKT_LINE_INVALID', `report-status line ${shown}: ${why}`);
}

function parseOption(line: string, options: RefStatusOptions): void {
  const [key = '', value] = splitOnce(line.slice('option '.length));
  if (key === 'refname') {
    if (value === undefined || !REF_PATTERN.test(value)) throw invalid(line, 'expected "option refname <ref>"');
    options.refname = value;
  } else if (key === 'old-oid' || key === 'new-oid') {
    if (value === undefined || !isOid(value)) throw invalid(line, `expected "option ${key} <oid>"`);
    options[key === 'old-oid' ? 'oldOid' : 'newOid'] = value;
  } else if (key === 'forced-update') {
    if (value !== undefined) throw invalid(line, 'expected "option forced-update" alone');
    options.forcedUpdate = true;
  }
  // Any other key is skipped, as git's send-pack skips it: a newer server may add options.
}

function splitOnce(text: string): [string, string | undefined] {
  const space = text.indexOf(' ');
  return space < 0 ? [text, undefined] : [text.slice(0, space), text.slice(space + 1)];
}

/** The report in plain (not side-band) frames, read up to its flush. */
function parseReportLines(pkts: Iterable<Pkt>): ReportStatus {
  let report: ReportStatus | undefined;
  for (const pkt of pkts) {
    if (pkt.kind === 'flush') {
      if (!report) throw invalid('flush', 'expected "unpack ok" or "unpack <reason>" first');
      return report;
    }
    if (pkt.kind !== 'data') throw invalid(pkt.kind, 'report-status has no delim or response-end packets');
    const line = pktText(pkt.payload);
    if (!report) {
      if (!line.startsWith('unpack ')) throw invalid(line, 'expected "unpack ok" or "unpack <reason>" first');
      const status = line.slice('unpack '.length);
      report = { unpack: status === 'ok' ? { ok: true } : { ok: false, reason: status }, refs: [] };
      continue;
    }
    const [head, rest = ''] = splitOnce(line);
    if (head === 'option') {
      const last = report.refs.at(-1);
      if (!last?.ok) throw invalid(line, 'an option line must follow an "ok <ref>" line');
      parseOption(line, (last.options ??= {}));
      continue;
    }
    const [ref, reason] = splitOnce(rest);
    if (!REF_PATTERN.test(ref)) throw invalid(line, `expected "${head} <ref>"`);
    if (head === 'ok' && reason === undefined) report.refs.push({ ref, ok: true });
    // "ng <ref>" without a reason is read as git's send-pack reads it: "failed".
    else if (head === 'ng') report.refs.push({ ref, ok: false, reason: reason ?? 'failed' });
    else throw invalid(line, 'expected "ok <ref>", "ng <ref> <reason>" or "option <key> [<value>]"');
  }
  throw new PortcullisError('PKT_LINE_TRUNCATED', 'report-status ended without its flush', {
    hint: 'The connection was cut short; the push may or may not have been applied. Fetch and check before pushing again.',
  });
}

/**
 * Reads a report whether or not side-band was negotiated: a report starts with "unpack", a
 * side-band line with byte 1, 2 or 3, so the first line tells which. Band-2 messages are skipped
 * (use `demuxSideBand` to keep them); band 3 means receive-pack gave up and is thrown.
 */
export function parseReportStatus(pkts: Iterable<Pkt>): ReportStatus {
  const frames = [...pkts];
  const first = frames[0];
  const firstByte = first?.kind === 'data' ? first.payload[0] : undefined;
  if (firstByte === undefined || firstByte > 3) return parseReportLines(frames);

  const { data, error } = demuxSideBand(frames);
  if (error !== '') throw new PortcullisError('UPSTREAM_ERROR', `receive-pack failed: ${error.trim()}`);
  const inner = decodePktLinePrefix(data, { stopAfterFlush: true });
  if (inner.truncated) throw new PortcullisError('PKT_LINE_TRUNCATED', 'report-status ended in the middle of a pkt-line');
  return parseReportLines(inner.pkts);
}

function checkRef(ref: string): void {
  if (!REF_PATTERN.test(ref)) throw invalid(ref, 'a ref name has no spaces or control characters');
}

function checkText(text: string, what: string): void {
  if (BAD_TEXT_PATTERN.test(text)) throw invalid(text, `${what} must not contain LF, CR or NUL`);
}

function reportLines(report: ReportStatus, v2: boolean): string[] {
  if (!report.unpack.ok) {
    checkText(report.unpack.reason, 'an unpack reason');
    if (report.unpack.reason === 'ok') throw invalid('unpack ok', 'a failed unpack cannot have the reason "ok"');
  }
  const lines = [`unpack ${report.unpack.ok ? 'ok' : report.unpack.reason}\n`];
  for (const status of report.refs) {
    checkRef(status.ref);
    if (!status.ok) {
      checkText(status.reason, 'an ng reason');
      lines.push(`ng ${status.ref} ${status.reason}\n`);
      continue;
    }
    lines.push(`ok ${status.ref}\n`);
    const options = status.options;
    // report-status v1 has no option lines; receive-pack's report() leaves them out the same way.
    if (!v2 || !options) continue;
    if (options.refname !== undefined) {
      checkRef(options.refname);
      lines.push(`option refname ${options.refname}\n`);
    }
    for (const [key, oid] of [['old-oid', options.oldOid], ['new-oid', options.newOid]] as const) {
      if (oid === undefined) continue;
      if (!isOid(oid)) throw invalid(oid, `option ${key} needs an object id`);
      lines.push(`option ${key} ${oid}\n`);
    }
    if (options.forcedUpdate) lines.push('option forced-update\n');
  }
  return lines;
}

/** The response body receive-pack would send for `report`, byte for byte. */
export function writeReportStatus(report: ReportStatus, options: WriteReportStatusOptions): Uint8Array {
  const lines = reportLines(report, options.v2);
  const body = encodePktLines([...lines.map((line): Pkt => ({ kind: 'data', payload: textEncoder.encode(line) })), { kind: 'flush' }]);
  if (options.sideBand === 'none') return body;

  const maxPkt = options.sideBand === 'side-band-64k' ? SIDE_BAND_64K_MAX : SIDE_BAND_MAX;
  const progress = (options.progress ?? []).map((line) => {
    checkText(line, 'a progress line');
    // One message, one send_sideband() call, as receive-pack's rp_error()/rp_warning() do.
    return encodeSideBand(2, `${line}\n`, maxPkt);
  });
  return concatBytes([...progress, encodeSideBand(1, body, maxPkt), encodeFlush()]);
}
