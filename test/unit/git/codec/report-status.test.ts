import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ZERO_OID,
  decodePktLinePrefix,
  demuxSideBand,
  encodeFlush,
  encodePktLine,
  encodePktLines,
  parseReceivePackCommands,
  parseReportStatus,
  readPktLines,
  writeReportStatus,
} from '../../../../src/git/codec/index.ts';
import type { Pkt, RefStatus, ReportStatus, ReportStatusSideBand } from '../../../../src/git/codec/index.ts';
import { isPortcullisError } from '../../../../src/errors.ts';
import { gitOk, runGit } from '../../../helpers/git-cli.ts';
import { readWireFixture, wireManifest } from './wire-fixtures.ts';

const { second, third } = wireManifest.commits;
const latin1 = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const decode = (bytes: Uint8Array): Pkt[] => decodePktLinePrefix(bytes).pkts;

function frames(...items: string[]): Pkt[] {
  return items.map((item): Pkt => (item === 'flush' ? { kind: 'flush' } : { kind: 'data', payload: new TextEncoder().encode(item) }));
}

function errorOf(run: () => unknown): { code: string; message: string } | undefined {
  try {
    run();
  } catch (error) {
    if (isPortcullisError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  return undefined;
}

/** `bytes` delivered as chunks split at `cuts` (any numbers; reduced to sorted in-range offsets). */
async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    yield bytes.subarray(start, offset);
    start = offset;
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The receive-pack responses captured by test/fixtures/wire/capture.ts, with what each holds. */
const mixedPush: ReportStatus = {
  unpack: { ok: true },
  refs: [
    { ref: 'refs/heads/main', ok: false, reason: 'non-fast-forward' },
    { ref: 'refs/heads/topic', ok: true },
    { ref: 'refs/heads/feature', ok: true },
  ],
};
const mixedPushProgress = ['error: denying non-fast-forward refs/heads/main (you should pull first)'];

describe('report-status captured from git 2.39.5 receive-pack', () => {
  it.each<[string, boolean, ReportStatusSideBand, string[]]>([
    ['push-mixed-v2-side-band-64k.response.bin', true, 'side-band-64k', mixedPushProgress],
    ['push-mixed-v1-side-band-64k.response.bin', false, 'side-band-64k', mixedPushProgress],
    ['push-mixed-v2-no-side-band.response.bin', true, 'none', []],
    ['push-mixed-v1-no-side-band.response.bin', false, 'none', []],
  ])('%s: parse reads it, write reproduces it byte for byte', (file, v2, sideBand, progress) => {
    const captured = readWireFixture(file);
    expect(parseReportStatus(decode(captured))).toEqual(mixedPush);
    expect(latin1(writeReportStatus(mixedPush, { v2, sideBand, progress }))).toBe(latin1(captured));
  });

  it('reads report-status-v2 option lines from a proc-receive hook, one entry per "ok"', () => {
    const captured = readWireFixture('push-proc-receive-v2-side-band-64k.response.bin');
    const report: ReportStatus = {
      unpack: { ok: true },
      refs: [
        { ref: 'refs/for/main/review', ok: true, options: { refname: 'refs/heads/main', oldOid: second, newOid: third } },
        { ref: 'refs/for/main/review', ok: true, options: { refname: 'refs/changes/01/1/1', newOid: third, forcedUpdate: true } },
      ],
    };
    expect(parseReportStatus(decode(captured))).toEqual(report);
    expect(latin1(writeReportStatus(report, { v2: true, sideBand: 'side-band-64k' }))).toBe(latin1(captured));
    // A v1 client gets the same refs without the option lines.
    expect(parseReportStatus(decode(writeReportStatus(report, { v2: false, sideBand: 'none' }))).refs)
      .toEqual(report.refs.map(({ ref }) => ({ ref, ok: true })));
  });
});

const refArbitrary = fc.stringMatching(/^refs\/(heads|tags|for)\/[A-Za-z0-9._/-]{1,30}$/);
const oidArbitrary = fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.stringMatching(/^[0-9a-f]{64}$/), fc.constant(ZERO_OID));
// Anything printable, spaces and non-ASCII included; git only cuts reasons at LF.
const reasonArbitrary = fc.string({ unit: 'grapheme', maxLength: 80 }).filter((text) => !/[\n\r\0]/.test(text));
const optionsArbitrary = fc
  .record({ refname: refArbitrary, oldOid: oidArbitrary, newOid: oidArbitrary, forcedUpdate: fc.constant(true) }, { requiredKeys: [] })
  .filter((options) => Object.keys(options).length > 0);

function refStatusArbitrary(v2: boolean): fc.Arbitrary<RefStatus> {
  return fc.oneof(
    fc.record({ ref: refArbitrary, ok: fc.constant(false as const), reason: reasonArbitrary }),
    v2
      ? fc.record({ ref: refArbitrary, ok: fc.constant(true as const), options: optionsArbitrary }, { requiredKeys: ['ref', 'ok'] })
      : fc.record({ ref: refArbitrary, ok: fc.constant(true as const) }),
  );
}

function reportArbitrary(v2: boolean): fc.Arbitrary<ReportStatus> {
  return fc.record({
    unpack: fc.oneof(
      fc.constant({ ok: true as const }),
      fc.record({ ok: fc.constant(false as const), reason: reasonArbitrary.filter((reason) => reason !== 'ok') }),
    ),
    // Enough refs that plain side-band (1000-byte lines) needs several band-1 lines.
    refs: fc.array(refStatusArbitrary(v2), { maxLength: 30 }),
  });
}

const caseArbitrary = fc.boolean().chain((v2) =>
  fc.record({
    v2: fc.constant(v2),
    report: reportArbitrary(v2),
    sideBand: fc.constantFrom<ReportStatusSideBand>('none', 'side-band', 'side-band-64k'),
    progress: fc.array(reasonArbitrary, { maxLength: 4 }),
  }),
);

describe('writeReportStatus → parseReportStatus', () => {
  it('parse(write(report)) is the report, for v1 and v2, with and without side-band', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ v2, report, sideBand, progress }) => {
        const bytes = writeReportStatus(report, { v2, sideBand, progress });
        const pkts = decode(bytes);
        expect(parseReportStatus(pkts)).toEqual(report);
        if (sideBand === 'none') return;
        const limit = sideBand === 'side-band' ? 1000 : 65520;
        expect(pkts.every((pkt) => pkt.kind !== 'data' || pkt.payload.length + 4 <= limit)).toBe(true);
        expect(demuxSideBand(pkts).progress).toBe(progress.map((line) => `${line}\n`).join(''));
        expect(pkts.at(-1)).toEqual({ kind: 'flush' });
      }),
      { numRuns: 300 },
    );
  });

  it('reads the same report however the response bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, fc.array(fc.nat(), { maxLength: 20 }), async ({ v2, report, sideBand, progress }, cuts) => {
        const bytes = writeReportStatus(report, { v2, sideBand, progress });
        expect(parseReportStatus(await collect(readPktLines(chunked(bytes, cuts))))).toEqual(report);
      }),
      { numRuns: 200 },
    );
  });

  it('throws a typed error for a response cut anywhere before its end, never a wrong report', () => {
    fc.assert(
      fc.property(caseArbitrary, fc.nat(), ({ v2, report, sideBand, progress }, seed) => {
        const bytes = writeReportStatus(report, { v2, sideBand, progress });
        // Cutting only the final outer flush of a side-band response leaves the report whole.
        const whole = sideBand === 'none' ? bytes.length : bytes.length - 4;
        const cut = seed % whole;
        const prefix = decodePktLinePrefix(bytes.subarray(0, cut)).pkts;
        expect(errorOf(() => parseReportStatus(prefix))?.code).toMatch(/^PKT_LINE_(TRUNCATED|INVALID)$/);
      }),
      { numRuns: 300 },
    );
  });

  it('splits a large report over 1000-byte band-1 lines with plain side-band', () => {
    const refs = Array.from({ length: 40 }, (_, i): RefStatus => ({ ref: `refs/heads/branch-${i}`, ok: false, reason: 'held for approval: abc123' }));
    const pkts = decode(writeReportStatus({ unpack: { ok: true }, refs }, { v2: false, sideBand: 'side-band' }));
    expect(pkts.length).toBeGreaterThan(3);
    expect(pkts.slice(0, -2).every((pkt) => pkt.kind === 'data' && pkt.payload.length === 996 && pkt.payload[0] === 1)).toBe(true);
    expect(parseReportStatus(pkts).refs).toEqual(refs);
  });

  it('leaves progress out without side-band: it has no channel to the client', () => {
    const report: ReportStatus = { unpack: { ok: true }, refs: [{ ref: 'refs/heads/main', ok: true }] };
    expect(latin1(writeReportStatus(report, { v2: true, sideBand: 'none', progress: ['hello'] })))
      .toBe('000eunpack ok\n0017ok refs/heads/main\n0000');
  });

  it.each<[string, ReportStatus, string | undefined]>([
    ['an ng reason with LF', { unpack: { ok: true }, refs: [{ ref: 'refs/heads/main', ok: false, reason: 'held\nforged line' }] }, undefined],
    ['an ng reason with CR', { unpack: { ok: true }, refs: [{ ref: 'refs/heads/main', ok: false, reason: 'held\r' }] }, undefined],
    ['an unpack reason with LF', { unpack: { ok: false, reason: 'bad\n' }, refs: [] }, undefined],
    ['a failed unpack whose reason is "ok"', { unpack: { ok: false, reason: 'ok' }, refs: [] }, undefined],
    ['a ref with a space', { unpack: { ok: true }, refs: [{ ref: 'refs/heads/a b', ok: true }] }, undefined],
    ['an empty ref', { unpack: { ok: true }, refs: [{ ref: '', ok: true }] }, undefined],
    ['a bad option refname', { unpack: { ok: true }, refs: [{ ref: 'refs/heads/a', ok: true, options: { refname: 'a\nb' } }] }, undefined],
    ['a short new-oid', { unpack: { ok: true }, refs: [{ ref: 'refs/heads/a', ok: true, options: { newOid: 'abc' } }] }, undefined],
    ['a progress line with LF', { unpack: { ok: true }, refs: [] }, 'two\nlines'],
  ])('refuses to write %s', (_name, report, progressLine) => {
    const progress = progressLine === undefined ? [] : [progressLine];
    expect(errorOf(() => writeReportStatus(report, { v2: true, sideBand: 'side-band-64k', progress }))?.code).toBe('PKT_LINE_INVALID');
  });
});

describe('parseReportStatus', () => {
  it('reads lines without their trailing LF, an unpack failure, and "ng" without a reason as git does', () => {
    expect(parseReportStatus(frames('unpack index-pack abnormal exit', 'ng refs/heads/main', 'ok refs/heads/x', 'option forced-update', 'flush')))
      .toEqual({
        unpack: { ok: false, reason: 'index-pack abnormal exit' },
        refs: [{ ref: 'refs/heads/main', ok: false, reason: 'failed' }, { ref: 'refs/heads/x', ok: true, options: { forcedUpdate: true } }],
      });
  });

  it('skips option keys it does not know, as git does, and stops at the flush', () => {
    expect(parseReportStatus(frames('unpack ok\n', 'ok refs/heads/x\n', 'option future-thing 1\n', 'flush', 'garbage')))
      .toEqual({ unpack: { ok: true }, refs: [{ ref: 'refs/heads/x', ok: true, options: {} }] });
  });

  it('passes on a side-band error from receive-pack instead of a report', () => {
    const bytes = new Uint8Array(Buffer.concat([encodePktLine(new Uint8Array([3, ...Buffer.from('fatal: out of disk\n')])), encodeFlush()]));
    expect(errorOf(() => parseReportStatus(decode(bytes)))).toEqual({ code: 'UPSTREAM_ERROR', message: 'receive-pack failed: fatal: out of disk' });
  });

  it.each<[string, Pkt[], string, string]>([
    ['nothing', [], 'PKT_LINE_TRUNCATED', 'without its flush'],
    ['only a flush', frames('flush'), 'PKT_LINE_INVALID', '"flush": expected "unpack ok"'],
    ['no unpack line', frames('ok refs/heads/main', 'flush'), 'PKT_LINE_INVALID', '"ok refs/heads/main": expected "unpack ok"'],
    ['no flush', frames('unpack ok', 'ok refs/heads/main'), 'PKT_LINE_TRUNCATED', 'without its flush'],
    ['an unknown status', frames('unpack ok', 'maybe refs/heads/main', 'flush'), 'PKT_LINE_INVALID', '"maybe refs/heads/main"'],
    ['"ok" with a reason', frames('unpack ok', 'ok refs/heads/main why', 'flush'), 'PKT_LINE_INVALID', '"ok refs/heads/main why"'],
    ['"ok" without a ref', frames('unpack ok', 'ok', 'flush'), 'PKT_LINE_INVALID', '"ok": expected "ok <ref>"'],
    ['an option after "ng"', frames('unpack ok', 'ng refs/heads/a no', 'option forced-update', 'flush'), 'PKT_LINE_INVALID', 'must follow an "ok <ref>"'],
    ['an option first', frames('unpack ok', 'option refname refs/heads/a', 'flush'), 'PKT_LINE_INVALID', 'must follow an "ok <ref>"'],
    ['a bad old-oid', frames('unpack ok', 'ok refs/heads/a', 'option old-oid 123', 'flush'), 'PKT_LINE_INVALID', '"option old-oid 123"'],
    ['a refname without a ref', frames('unpack ok', 'ok refs/heads/a', 'option refname', 'flush'), 'PKT_LINE_INVALID', '"option refname"'],
    ['a delim', [...frames('unpack ok'), { kind: 'delim' }], 'PKT_LINE_INVALID', '"delim"'],
    ['a side-band report cut inside a line', decode(new Uint8Array([...encodePktLine(new Uint8Array([1, ...Buffer.from('000eunpa')])), ...encodeFlush()])), 'PKT_LINE_TRUNCATED', 'middle of a pkt-line'],
  ])('refuses %s', (_name, pkts, code, text) => {
    const error = errorOf(() => parseReportStatus(pkts));
    expect(error?.code).toBe(code);
    expect(error?.message).toContain(text);
  });
});

/**
 * What matters in the end: the real git client prints our refusal. A node:http server answers
 * GET info/refs with receive-pack's own advertisement (capabilities trimmed to force v1 or no
 * side-band) and the receive-pack POST with writeReportStatus, for what the client negotiated.
 */
describe('git push prints what writeReportStatus wrote', () => {
  const progress = ['Portcullis: push to main held for approval', 'Approve at https://portcullis.example.invalid/approvals/abc123'];
  let root = '';
  let work = '';
  let server: Server | undefined;
  let url = '';
  let hidden: string[] = [];
  let asked: string[] = [];

  function advertise(advertisement: Uint8Array): Uint8Array {
    const pkts = decodePktLinePrefix(advertisement).pkts.map((pkt): Pkt => {
      if (pkt.kind !== 'data' || !pkt.payload.includes(0)) return pkt;
      const [refs = '', capabilities = ''] = latin1(pkt.payload).replace(/\n$/, '').split('\0');
      const kept = capabilities.split(' ').filter((capability) => !hidden.includes(capability));
      return { kind: 'data', payload: Buffer.from(`${refs}\0${kept.join(' ')}\n`, 'latin1') };
    });
    return encodePktLines([...frames('# service=git-receive-pack\n', 'flush'), ...pkts]);
  }

  function respond(body: Buffer): Uint8Array {
    const { pkts } = decodePktLinePrefix(body, { stopAfterFlush: true });
    const commands = parseReceivePackCommands(pkts);
    asked = commands.capabilities;
    const newOid = commands.updates.find((update) => update.ref === 'refs/heads/feature')?.newOid ?? '';
    const v2 = asked.includes('report-status-v2');
    return writeReportStatus(
      {
        unpack: { ok: true },
        refs: [
          { ref: 'refs/heads/main', ok: false, reason: 'held for approval: abc123' },
          { ref: 'refs/heads/feature', ok: true, ...(v2 ? { options: { refname: 'refs/heads/feature', oldOid: ZERO_OID, newOid } } : {}) },
        ],
      },
      { v2, sideBand: asked.includes('side-band-64k') ? 'side-band-64k' : 'none', progress },
    );
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-report-status-'));
    const remote = join(root, 'remote.git');
    work = join(root, 'work');
    await gitOk(['init', '-q', '--bare', remote]);
    await gitOk(['init', '-q', work]);
    await gitOk(['commit', '-q', '--allow-empty', '-m', 'first'], { cwd: work });
    await gitOk(['push', '-q', remote, 'main'], { cwd: work });
    await gitOk(['commit', '-q', '--allow-empty', '-m', 'second'], { cwd: work });
    const advertisement = Buffer.from((await gitOk(['receive-pack', '--stateless-rpc', '--advertise-refs', remote])).stdout, 'latin1');

    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        if (req.method === 'GET' && req.url === '/remote.git/info/refs?service=git-receive-pack') {
          res.writeHead(200, { 'Content-Type': 'application/x-git-receive-pack-advertisement', 'Cache-Control': 'no-cache' });
          res.end(advertise(advertisement));
        } else if (req.method === 'POST' && req.url === '/remote.git/git-receive-pack') {
          const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          res.writeHead(200, { 'Content-Type': 'application/x-git-receive-pack-result', 'Cache-Control': 'no-cache' });
          res.end(respond(body));
        } else {
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/remote.git`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each<[string, string[], string[]]>([
    ['report-status-v2 in side-band-64k (git default)', [], ['report-status-v2', 'side-band-64k']],
    ['report-status in side-band-64k', ['report-status-v2'], ['report-status', 'side-band-64k']],
    ['report-status-v2 without side-band', ['side-band-64k'], ['report-status-v2']],
    ['report-status without side-band', ['report-status-v2', 'side-band-64k'], ['report-status']],
  ])('%s', async (_name, hide, negotiated) => {
    hidden = hide;
    const result = await runGit(['push', url, 'main', 'main:refs/heads/feature'], { cwd: work });
    const lines = result.stderr.split('\n').map((line) => line.trimEnd());
    expect(asked.filter((capability) => ['report-status', 'report-status-v2', 'side-band-64k'].includes(capability))).toEqual(negotiated);
    expect(result.code).toBe(1);
    expect(lines).toContain(' ! [remote rejected] main -> main (held for approval: abc123)');
    expect(lines).toContain(' * [new branch]      main -> feature');
    const remoteLines = lines.filter((line) => line.startsWith('remote:'));
    // Progress travels only on band 2; without side-band git never sees it.
    expect(remoteLines).toEqual(negotiated.includes('side-band-64k') ? progress.map((line) => `remote: ${line}`) : []);
  }, 30_000);
});
