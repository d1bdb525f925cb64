/**
 * The client's POST /git-upload-pack body.
 * v0/v1: https://git-scm.com/docs/gitprotocol-pack#_packfile_negotiation (`upload-request`, then haves)
 * v2:    https://git-scm.com/docs/gitprotocol-v2#_command_request, `ls-refs` and `fetch` sections
 *
 * Lines git would act on are parsed and checked; anything malformed is refused rather than passed
 * on, because policy decides from these fields and must see what upload-pack will see.
 */
import { PortcullisError } from '../../errors.ts';
import { isOid } from './oid.ts';
import { pktText } from './pkt-line.ts';
import type { Pkt } from './pkt-line.ts';

export type UploadPackRequestV0 = {
  protocol: 0;
  wants: string[];
  haves: string[];
  shallows: string[];
  deepen?: number;
  deepenSince?: number;
  deepenNot: string[];
  filter?: string;
  /** From the first `want` line, e.g. `side-band-64k`, `agent=git/2.39.5`. */
  capabilities: string[];
  done: boolean;
};

export type UploadPackRequestV2 = {
  protocol: 2;
  /** `ls-refs`, `fetch`, … ; '' for the spec's empty request (a lone flush). */
  command: string;
  /** Lines between `command=` and the delim, e.g. `agent=git/2.39.5`, `object-format=sha1`. */
  capabilities: string[];
  /** Every line after the delim, raw; the fields below are only filled for `fetch` / `ls-refs`. */
  args: string[];
  wants: string[];
  wantRefs: string[];
  haves: string[];
  refPrefixes: string[];
  shallows: string[];
  deepen?: number;
  deepenSince?: number;
  deepenNot: string[];
  filter?: string;
  done: boolean;
};

export type UploadPackRequest = UploadPackRequestV0 | UploadPackRequestV2;

function invalid(line: string, why: string): PortcullisError {
  const shown = JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
  return new PortcullisError('PKT_LINE_INVALID', `upload-pack request line ${shown}: ${why}`);
}

function expectOid(line: string, value: string): string {
  if (!isOid(value)) throw invalid(line, 'expected a 40- or 64-digit lower-case hex object id');
  return value;
}

function expectCount(line: string, value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(count)) throw invalid(line, 'expected a non-negative integer');
  return count;
}

function expectValue(line: string, value: string): string {
  if (!value) throw invalid(line, 'expected a value after the keyword');
  return value;
}

function splitArg(line: string): [keyword: string, value: string] {
  const space = line.indexOf(' ');
  return space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
}

/** The negotiation lines v0 and v2 fetch share; false if `keyword` is not one of them. */
function applyShallowArg(request: UploadPackRequestV0 | UploadPackRequestV2, line: string): boolean {
  const [keyword, value] = splitArg(line);
  if (keyword === 'shallow') request.shallows.push(expectOid(line, value));
  else if (keyword === 'deepen') request.deepen = expectCount(line, value);
  else if (keyword === 'deepen-since') request.deepenSince = expectCount(line, value);
  else if (keyword === 'deepen-not') request.deepenNot.push(expectValue(line, value));
  else if (keyword === 'filter') request.filter = expectValue(line, value);
  else return false;
  return true;
}

function parseV0(pkts: Iterable<Pkt>): UploadPackRequestV0 {
  const request: UploadPackRequestV0 = { protocol: 0, wants: [], haves: [], shallows: [], deepenNot: [], capabilities: [], done: false };
  // The want list ends at the first flush; haves follow, each negotiation round ending in a flush.
  let phase: 'wants' | 'haves' = 'wants';
  for (const pkt of pkts) {
    if (pkt.kind === 'flush') {
      phase = 'haves';
      continue;
    }
    if (pkt.kind !== 'data') throw invalid(pkt.kind, 'protocol v0 has no delim or response-end packets');
    const line = pktText(pkt.payload);
    if (request.done) throw invalid(line, 'nothing may follow "done"');
    const [keyword, value] = splitArg(line);
    if (phase === 'haves') {
      if (line === 'done') request.done = true;
      else if (keyword === 'have') request.haves.push(expectOid(line, value));
      else throw invalid(line, 'expected "have <oid>" or "done" after the want list');
    } else if (keyword === 'want') {
      const [oid = '', ...capabilities] = value.split(' ');
      // git honours capabilities on any want line; only the first may carry them, so none hide later.
      if (request.wants.length > 0 && capabilities.length > 0) throw invalid(line, 'only the first want may carry capabilities');
      if (request.wants.length === 0) request.capabilities = capabilities.filter((c) => c.length > 0);
      request.wants.push(expectOid(line, oid));
    } else if (!applyShallowArg(request, line)) {
      throw invalid(line, 'expected want, shallow, deepen, deepen-since, deepen-not or filter');
    }
  }
  return request;
}

function applyFetchArg(request: UploadPackRequestV2, line: string): void {
  const [keyword, value] = splitArg(line);
  if (keyword === 'want') request.wants.push(expectOid(line, value));
  else if (keyword === 'have') request.haves.push(expectOid(line, value));
  else if (keyword === 'want-ref') request.wantRefs.push(expectValue(line, value));
  else if (line === 'done') request.done = true;
  // Other args (thin-pack, ofs-delta, sideband-all, …) only shape the response; they stay in `args`.
  else applyShallowArg(request, line);
}

function parseV2(pkts: Iterable<Pkt>): UploadPackRequestV2 {
  const request: UploadPackRequestV2 = {
    protocol: 2, command: '', capabilities: [], args: [], wants: [], wantRefs: [], haves: [],
    refPrefixes: [], shallows: [], deepenNot: [], done: false,
  };
  let section: 'command' | 'capabilities' | 'args' | 'end' = 'command';
  for (const pkt of pkts) {
    // upload-pack --stateless-rpc serves one request and ignores the rest; refuse it so nothing
    // in the body escapes the policy check.
    if (section === 'end') throw invalid(pkt.kind === 'data' ? pktText(pkt.payload) : pkt.kind, 'data after the closing flush');
    if (pkt.kind === 'flush') section = 'end';
    else if (pkt.kind === 'delim' && section === 'capabilities') section = 'args';
    else if (pkt.kind !== 'data') throw invalid(pkt.kind, `unexpected ${pkt.kind}-pkt in the ${section} section`);
    else {
      const line = pktText(pkt.payload);
      if (section === 'command') {
        if (!line.startsWith('command=') || line.length === 'command='.length) throw invalid(line, 'expected "command=<name>"');
        request.command = line.slice('command='.length);
        section = 'capabilities';
      } else if (section === 'capabilities') request.capabilities.push(line);
      else {
        request.args.push(line);
        if (request.command === 'fetch') applyFetchArg(request, line);
        else if (request.command === 'ls-refs' && line.startsWith('ref-prefix ')) request.refPrefixes.push(line.slice('ref-prefix '.length));
      }
    }
  }
  return request;
}

/**
 * Parses one upload-pack request body's frames. `protocol` comes from the Git-Protocol header
 * (`version=2` → 2; absent or `version=1` → 0, whose bodies are identical).
 */
export function parseUploadPackRequest(pkts: Iterable<Pkt>, protocol: 0): UploadPackRequestV0;
export function parseUploadPackRequest(pkts: Iterable<Pkt>, protocol: 2): UploadPackRequestV2;
export function parseUploadPackRequest(pkts: Iterable<Pkt>, protocol: 0 | 2): UploadPackRequest;
export function parseUploadPackRequest(pkts: Iterable<Pkt>, protocol: 0 | 2): UploadPackRequest {
  return protocol === 2 ? parseV2(pkts) : parseV0(pkts);
}
