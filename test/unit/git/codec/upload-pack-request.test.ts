import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePktLinePrefix, parseUploadPackRequest } from '../../../../src/git/codec/index.ts';
import type { Pkt } from '../../../../src/git/codec/index.ts';
import { PortcullisError } from '../../../../src/errors.ts';
import { readWireFixture, wireManifest } from './wire-fixtures.ts';

const { first, second, third } = wireManifest.commits;
const SHA256 = 'ab'.repeat(32);

/** Frames for a request written as text: strings become LF-terminated lines as git sends them. */
function frames(...items: Array<string | Pkt['kind']>): Pkt[] {
  return items.map((item): Pkt => {
    if (item === 'flush' || item === 'delim' || item === 'response-end') return { kind: item };
    return { kind: 'data', payload: new TextEncoder().encode(`${item}\n`) };
  });
}

function decodeFixture(name: string): Pkt[] {
  const { pkts, truncated } = decodePktLinePrefix(readWireFixture(name));
  expect(truncated).toBe(false);
  return pkts;
}

describe('parseUploadPackRequest on bodies captured from git 2.39.5', () => {
  it('reads a protocol v0 clone: wants with capabilities on the first, then done', () => {
    const request = parseUploadPackRequest(decodeFixture('clone-v0-upload-pack.request.bin'), 0);
    expect(request).toMatchObject({ protocol: 0, wants: [second, first], haves: [], shallows: [], deepenNot: [], done: true });
    expect(request.capabilities).toEqual([
      'multi_ack_detailed', 'no-done', 'side-band-64k', 'thin-pack', 'no-progress', 'ofs-delta', 'deepen-since', 'deepen-not',
      'agent=git/2.39.5',
    ]);
  });

  it('reads a protocol v2 ls-refs', () => {
    const request = parseUploadPackRequest(decodeFixture('clone-v2-ls-refs.request.bin'), 2);
    expect(request).toMatchObject({
      command: 'ls-refs',
      capabilities: ['agent=git/2.39.5', 'object-format=sha1'],
      args: ['peel', 'symrefs', 'unborn', 'ref-prefix HEAD', 'ref-prefix refs/heads/', 'ref-prefix refs/tags/'],
      refPrefixes: ['HEAD', 'refs/heads/', 'refs/tags/'],
      wants: [],
    });
  });

  it('reads a protocol v2 clone fetch: HEAD, main and topic wanted, done', () => {
    const request = parseUploadPackRequest(decodeFixture('clone-v2-fetch.request.bin'), 2);
    expect(request).toMatchObject({ command: 'fetch', wants: [second, second, first], haves: [], done: true });
    expect(request.args.slice(0, 3)).toEqual(['thin-pack', 'no-progress', 'ofs-delta']);
  });

  it('reads an incremental protocol v2 fetch: haves and no done yet', () => {
    const request = parseUploadPackRequest(decodeFixture('fetch-v2-fetch.request.bin'), 2);
    expect(request).toMatchObject({ command: 'fetch', wants: [third, third], haves: [second, first], done: false });
  });
});

describe('parseUploadPackRequest v0', () => {
  it('reads shallow, deepen and filter lines and several rounds of haves', () => {
    const request = parseUploadPackRequest(
      frames(`want ${SHA256} side-band-64k`, `want ${first}`, `shallow ${second}`, 'deepen 3', 'deepen-since 1704067200',
        'deepen-not refs/heads/old', 'filter blob:none', 'flush', `have ${second}`, 'flush', `have ${third}`, 'done'),
      0,
    );
    expect(request).toEqual({
      protocol: 0, wants: [SHA256, first], haves: [second, third], shallows: [second], deepen: 3, deepenSince: 1704067200,
      deepenNot: ['refs/heads/old'], filter: 'blob:none', capabilities: ['side-band-64k'], done: true,
    });
  });

  it('reads random want/have lists back', () => {
    const oid = fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.stringMatching(/^[0-9a-f]{64}$/));
    fc.assert(
      fc.property(fc.array(oid, { minLength: 1, maxLength: 5 }), fc.array(oid, { maxLength: 5 }), (wants, haves) => {
        const pkts = frames(...wants.map((w) => `want ${w}`), 'flush', ...haves.map((h) => `have ${h}`), 'done');
        expect(parseUploadPackRequest(pkts, 0)).toMatchObject({ wants, haves, done: true });
      }),
    );
  });

  it.each([
    ['a non-hex want', ['want not-an-oid'], 'want not-an-oid'],
    ['an upper-case oid', [`want ${first.toUpperCase()}`], 'lower-case hex'],
    ['a 39-digit oid', [`want ${first.slice(1)}`], 'object id'],
    ['capabilities on a later want', [`want ${first}`, `want ${second} ofs-delta`], 'only the first want'],
    ['a have before the flush', [`have ${first}`], 'expected want'],
    ['a non-numeric deepen', [`want ${first}`, 'deepen many'], 'non-negative integer'],
    ['an empty filter', [`want ${first}`, 'filter'], 'expected a value'],
    ['an unknown line', ['frobnicate'], 'expected want'],
    ['a want after the flush', [`want ${first}`, 'flush', `want ${second}`], 'expected "have <oid>" or "done"'],
    ['lines after done', [`want ${first}`, 'flush', 'done', `have ${second}`], 'nothing may follow'],
    ['a delim', [`want ${first}`, 'delim'], 'no delim'],
  ])('refuses %s, naming the line', (_name, items, why) => {
    expect(() => parseUploadPackRequest(frames(...items), 0)).toThrow(PortcullisError);
    expect(() => parseUploadPackRequest(frames(...items), 0)).toThrow(why);
  });
});

describe('parseUploadPackRequest v2', () => {
  it('reads every fetch argument it interprets and keeps the rest raw', () => {
    const request = parseUploadPackRequest(
      frames('command=fetch', 'agent=git/2.39.5', 'object-format=sha256', 'delim', `want ${SHA256}`, 'want-ref refs/heads/main',
        `have ${SHA256}`, `shallow ${SHA256}`, 'deepen 1', 'deepen-since 5', 'deepen-not v1.0', 'filter tree:0', 'sideband-all',
        'done', 'flush'),
      2,
    );
    expect(request).toMatchObject({
      command: 'fetch', capabilities: ['agent=git/2.39.5', 'object-format=sha256'], wants: [SHA256], wantRefs: ['refs/heads/main'],
      haves: [SHA256], shallows: [SHA256], deepen: 1, deepenSince: 5, deepenNot: ['v1.0'], filter: 'tree:0', done: true,
    });
    expect(request.args).toHaveLength(10);
  });

  it('passes other commands through as command and args only', () => {
    const request = parseUploadPackRequest(frames('command=object-info', 'delim', 'size', `oid ${first}`, 'flush'), 2);
    expect(request).toMatchObject({ command: 'object-info', args: ['size', `oid ${first}`], wants: [], haves: [] });
  });

  it('reads a lone flush as the spec\'s empty request', () => {
    expect(parseUploadPackRequest(frames('flush'), 2)).toMatchObject({ command: '', args: [] });
  });

  it.each([
    ['a missing command', ['agent=git/2.39.5', 'delim', 'flush'], 'expected "command=<name>"'],
    ['a bad want', ['command=fetch', 'delim', 'want 1234', 'flush'], 'want 1234'],
    ['a deepen without a count', ['command=fetch', 'delim', 'deepen', 'flush'], 'non-negative integer'],
    ['a second delim', ['command=fetch', 'delim', 'delim', 'flush'], 'delim-pkt in the args section'],
    ['a response-end', ['command=fetch', 'response-end'], 'response-end-pkt'],
    ['data after the flush', ['command=ls-refs', 'delim', 'flush', 'command=fetch'], 'data after the closing flush'],
  ])('refuses %s', (_name, items, why) => {
    expect(() => parseUploadPackRequest(frames(...items), 2)).toThrow(why);
  });
});
