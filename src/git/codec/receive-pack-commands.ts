/**
 * The ref update commands at the head of a POST /git-receive-pack body:
 * https://git-scm.com/docs/gitprotocol-pack#_reference_update_request_and_packfile_transfer
 * (`update-requests`, `push-cert`, `push-options`).
 *
 * The body is up to two pkt-line sections and then the PACK:
 *   [shallow…] (command-list | push-cert) flush   [push-option… flush]   PACK…
 * The second section exists only when the first line's capabilities include `push-options`, so a
 * streaming caller reads frames up to the first flush, parses, and reads a second section only if
 * `capabilities` asks for it:
 *   let commands = parseReceivePackCommands(section1);
 *   if (commands.capabilities.includes('push-options')) commands = parseReceivePackCommands(section1, section2);
 */
import { PortcullisError } from '../../errors.ts';
import { isOid } from './oid.ts';
import { encodePktLines, pktText } from './pkt-line.ts';
import type { Pkt } from './pkt-line.ts';

export type ReceivePackCommand = { oldOid: string; newOid: string; ref: string };

export type ReceivePackCommands = {
  /** In wire order. A zero old id creates `ref`, a zero new id deletes it (see `isZeroOid`). */
  updates: ReceivePackCommand[];
  capabilities: string[];
  shallows: string[];
  pushOptions: string[];
};

// A ref has no space or control characters (git-check-ref-format); the rest is policy's business.
const COMMAND_PATTERN = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) ([^\x00-\x20\x7f]+)$/;
const textEncoder = new TextEncoder();

function invalid(line: string, why: string): PortcullisError {
  const shown = JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  return new PortcullisError('PKT_LINE_INVALID', `receive-pack command line ${shown}: ${why}`);
}

function parseCommand(line: string): ReceivePackCommand {
  const match = COMMAND_PATTERN.exec(line);
  const [, oldOid = '', newOid = '', ref = ''] = match ?? [];
  if (!match || oldOid.length !== newOid.length) throw invalid(line, 'expected "<old-oid> <new-oid> <ref>"');
  return { oldOid, newOid, ref };
}

/**
 * A push certificate (`git push --signed`) repeats the commands inside its signed text: header
 * lines, a blank line, the commands, then the signature. Those commands are the real ones, so they
 * are kept and the rest is skipped; signature checking is upstream's job.
 */
function parseCertificateCommands(lines: string[]): ReceivePackCommand[] {
  const blank = lines.indexOf('');
  if (blank < 0) throw invalid(lines[0] ?? 'push-cert', 'push certificate has no blank line before its commands');
  const body = lines.slice(blank + 1);
  const signature = body.findIndex((line) => line.startsWith('-----BEGIN '));
  return (signature < 0 ? body : body.slice(0, signature)).map(parseCommand);
}

function* untilFlush(pkts: Iterable<Pkt>): Generator<string> {
  for (const pkt of pkts) {
    if (pkt.kind === 'flush') return;
    if (pkt.kind !== 'data') throw invalid(pkt.kind, 'receive-pack requests have no delim or response-end packets');
    yield pktText(pkt.payload);
  }
}

/**
 * Each section is read up to its flush (or its end). The PACK after them is not pkt-line framed
 * and must not be passed in: decode with `stopAfterFlush` or stop the stream reader at the flush.
 */
export function parseReceivePackCommands(commandSection: Iterable<Pkt>, pushOptionSection: Iterable<Pkt> = []): ReceivePackCommands {
  const result: ReceivePackCommands = { updates: [], capabilities: [], shallows: [], pushOptions: [] };
  let certificate: string[] | undefined;
  let sawCertificate = false;
  for (const line of untilFlush(commandSection)) {
    if (certificate) {
      if (line === 'push-cert-end') {
        result.updates.push(...parseCertificateCommands(certificate));
        certificate = undefined;
      } else certificate.push(line);
      continue;
    }
    if (line.startsWith('shallow ')) {
      if (!isOid(line.slice('shallow '.length))) throw invalid(line, 'expected "shallow <oid>"');
      result.shallows.push(line.slice('shallow '.length));
      continue;
    }
    const nul = line.indexOf('\0');
    const command = nul < 0 ? line : line.slice(0, nul);
    if (nul >= 0) {
      // receive-pack reads capabilities after a NUL on any line; allowing them only on the first
      // keeps policy from missing one (e.g. a late `push-options`).
      if (result.updates.length > 0 || sawCertificate) throw invalid(line, 'only the first command may carry capabilities');
      result.capabilities = line.slice(nul + 1).split(' ').filter((c) => c.length > 0);
    }
    if (command === 'push-cert') {
      if (result.updates.length > 0 || sawCertificate) throw invalid(line, 'a push certificate must come before any command');
      certificate = [];
      sawCertificate = true;
    } else if (sawCertificate) {
      throw invalid(line, 'commands outside a push certificate are not allowed with one'); // git refuses this mix too
    } else result.updates.push(parseCommand(command));
  }
  if (certificate) throw invalid('push-cert', 'push certificate ended without "push-cert-end"');
  result.pushOptions = [...untilFlush(pushOptionSection)];
  return result;
}

/**
 * The command section as git's send-pack writes it (capabilities after `NUL SP` on the first
 * command, no LF, then a flush), plus the push-option section when `pushOptions` is given.
 * With no commands there is no line to carry `capabilities`, so only the flush is written.
 */
export function writeReceivePackCommands(
  commands: ReceivePackCommand[],
  capabilities: string[],
  options: { shallows?: string[]; pushOptions?: string[] } = {},
): Uint8Array {
  const data = (text: string): Pkt => ({ kind: 'data', payload: textEncoder.encode(text) });
  const pkts: Pkt[] = (options.shallows ?? []).map((oid) => {
    if (!isOid(oid)) throw invalid(`shallow ${oid}`, 'expected "shallow <oid>"');
    return data(`shallow ${oid}`);
  });
  commands.forEach(({ oldOid, newOid, ref }, index) => {
    const line = `${oldOid} ${newOid} ${ref}`;
    parseCommand(line); // refuse to write what we would refuse to read
    pkts.push(data(index === 0 && capabilities.length > 0 ? `${line}\0 ${capabilities.join(' ')}` : line));
  });
  pkts.push({ kind: 'flush' });
  if (options.pushOptions) pkts.push(...options.pushOptions.map(data), { kind: 'flush' });
  return encodePktLines(pkts);
}
