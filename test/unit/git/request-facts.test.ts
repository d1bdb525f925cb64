import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { describeRequestBody } from '../../../src/git/request-facts.ts';
import { readWireFixture, wireManifest } from './codec/wire-fixtures.ts';

const { first, second, third, fourth } = wireManifest.commits;
const ZERO = '0'.repeat(40);

function fixture(name: string): Buffer {
  return Buffer.from(readWireFixture(name));
}

/** Byte offset just past the end of the first occurrence of `text` in `bytes`. */
function offsetAfter(bytes: Buffer, text: string): number {
  const at = bytes.indexOf(text);
  expect(at).toBeGreaterThanOrEqual(0);
  return at + text.length;
}

const pushUpdates = [
  { oldOid: second, newOid: third, ref: 'refs/heads/main' },
  { oldOid: first, newOid: ZERO, ref: 'refs/heads/topic' },
  { oldOid: ZERO, newOid: third, ref: 'refs/heads/feature' },
];

describe('describeRequestBody on bodies captured from git 2.39.5', () => {
  it.each([
    {
      name: 'clone-v2-ls-refs.request.bin',
      endpoint: 'git-upload-pack' as const,
      protocol: 2,
      expected: {
        command: 'ls-refs', wants: [], wantCount: 0, haveCount: 0, shallowCount: 0, done: false, truncated: false,
        wantRefs: [], refPrefixes: ['HEAD', 'refs/heads/', 'refs/tags/'],
      },
    },
    {
      name: 'clone-v2-fetch.request.bin',
      endpoint: 'git-upload-pack' as const,
      protocol: 2,
      expected: {
        command: 'fetch', wants: [second, second, first], wantCount: 3, haveCount: 0, shallowCount: 0, done: true, truncated: false,
        wantRefs: [], refPrefixes: [],
      },
    },
    {
      name: 'fetch-v2-fetch.request.bin',
      endpoint: 'git-upload-pack' as const,
      protocol: 2,
      expected: {
        command: 'fetch', wants: [third, third], wantCount: 2, haveCount: 2, shallowCount: 0, done: false, truncated: false,
        wantRefs: [], refPrefixes: [],
      },
    },
    {
      name: 'clone-v0-upload-pack.request.bin',
      endpoint: 'git-upload-pack' as const,
      protocol: 0,
      expected: {
        wants: [second, first], wantCount: 2, haveCount: 0, shallowCount: 0, done: true, truncated: false,
        capabilities: [
          'multi_ack_detailed', 'no-done', 'side-band-64k', 'thin-pack', 'no-progress', 'ofs-delta', 'deepen-since', 'deepen-not',
          'agent=git/2.39.5',
        ],
      },
    },
    {
      name: 'push-receive-pack.request.bin',
      endpoint: 'git-receive-pack' as const,
      protocol: 0,
      expected: {
        refUpdates: pushUpdates,
        refUpdateCount: 3,
        capabilities: ['report-status-v2', 'side-band-64k', 'quiet', 'push-options', 'object-format=sha1', 'agent=git/2.39.5'],
        pushOptions: ['ci.skip', 'reviewer=fixture'],
        truncated: false,
      },
    },
    {
      name: 'push-signed-receive-pack.request.bin',
      endpoint: 'git-receive-pack' as const,
      protocol: 0,
      expected: {
        refUpdates: [{ oldOid: third, newOid: fourth, ref: 'refs/heads/main' }],
        refUpdateCount: 1,
        capabilities: ['report-status-v2', 'side-band-64k', 'quiet', 'object-format=sha1', 'agent=git/2.39.5'],
        pushOptions: [],
        truncated: false,
      },
    },
  ])('$name', ({ name, endpoint, protocol, expected }) => {
    const description = describeRequestBody(endpoint, protocol, fixture(name), undefined);
    expect(description).toEqual(expected);
    // …and the same when git compressed the body (it does for large fetches).
    expect(describeRequestBody(endpoint, protocol, gzipSync(fixture(name)), 'gzip')).toEqual(description);
  });

  it('reads a v1 body as v0 (the bodies are identical)', () => {
    const body = fixture('clone-v0-upload-pack.request.bin');
    expect(describeRequestBody('git-upload-pack', 1, body, undefined)).toEqual(describeRequestBody('git-upload-pack', 0, body, undefined));
  });

  it('describes nothing for an empty body', () => {
    expect(describeRequestBody('git-upload-pack', 2, Buffer.alloc(0), undefined)).toEqual({});
    expect(describeRequestBody('git-receive-pack', 0, Buffer.alloc(0), 'gzip')).toEqual({});
  });
});

describe('describeRequestBody on a captured prefix', () => {
  it('v2 fetch cut inside the second want: the wants so far, truncated', () => {
    const body = fixture('fetch-v2-fetch.request.bin');
    const cut = offsetAfter(body, `want ${third}\n`) + 10;
    expect(describeRequestBody('git-upload-pack', 2, body.subarray(0, cut), undefined)).toMatchObject({
      command: 'fetch',
      wants: [third],
      wantCount: 1,
      haveCount: 0,
      truncated: true,
    });
  });

  it('v0 clone cut inside the pkt-line header of the done line', () => {
    const body = fixture('clone-v0-upload-pack.request.bin');
    const cut = offsetAfter(body, `0000`) + 2;
    expect(describeRequestBody('git-upload-pack', 0, body.subarray(0, cut), undefined)).toMatchObject({
      wants: [second, first],
      done: false,
      truncated: true,
    });
  });

  it('push cut inside a command: the complete commands, no push options, truncated', () => {
    const body = fixture('push-receive-pack.request.bin');
    const cut = offsetAfter(body, 'refs/heads/topic') + 6;
    expect(describeRequestBody('git-receive-pack', 0, body.subarray(0, cut), undefined)).toMatchObject({
      refUpdates: pushUpdates.slice(0, 2),
      refUpdateCount: 2,
      pushOptions: [],
      truncated: true,
    });
  });

  it('push cut inside the push-option section: the options so far, truncated', () => {
    const body = fixture('push-receive-pack.request.bin');
    const cut = offsetAfter(body, 'reviewer=');
    expect(describeRequestBody('git-receive-pack', 0, body.subarray(0, cut), undefined)).toMatchObject({
      refUpdates: pushUpdates,
      pushOptions: ['ci.skip'],
      truncated: true,
    });
  });

  it('push cut inside the PACK: nothing is missing from the description', () => {
    const body = fixture('push-receive-pack.request.bin');
    const cut = offsetAfter(body, 'PACK');
    expect(describeRequestBody('git-receive-pack', 0, body.subarray(0, cut), undefined)).toMatchObject({
      refUpdates: pushUpdates,
      pushOptions: ['ci.skip', 'reviewer=fixture'],
      truncated: false,
    });
  });

  it.each([
    'clone-v2-fetch.request.bin',
    'fetch-v2-fetch.request.bin',
    'clone-v0-upload-pack.request.bin',
    'push-receive-pack.request.bin',
  ])('%s: every cut inside a pkt-line gives a truncated description, never a throw', (name) => {
    const body = fixture(name);
    const endpoint = name.startsWith('push') ? 'git-receive-pack' : 'git-upload-pack';
    const protocol = name.includes('v2') ? 2 : 0;
    const full = describeRequestBody(endpoint, protocol, body, undefined);
    const packAt = body.indexOf('PACK');
    for (let cut = 1; cut < (packAt < 0 ? body.length : packAt); cut++) {
      const description = describeRequestBody(endpoint, protocol, body.subarray(0, cut), undefined);
      expect(description).not.toHaveProperty('unparsed');
      if (description.truncated === false) {
        // only possible when the cut falls exactly between two lines
        const count = (description.wantCount ?? description.refUpdateCount) as number;
        expect(count).toBeLessThanOrEqual((full.wantCount ?? full.refUpdateCount) as number);
      }
    }
  });

  it('a gzip body cut short is described as far as it inflates, truncated', () => {
    const body = fixture('fetch-v2-fetch.request.bin');
    const gz = gzipSync(body);
    for (const cut of [1, 10, 20, Math.floor(gz.length / 2), gz.length - 1]) {
      const description = describeRequestBody('git-upload-pack', 2, gz.subarray(0, cut), 'gzip');
      expect(description, `cut at ${cut} of ${gz.length}`).toMatchObject({ truncated: true });
      expect(description).not.toHaveProperty('unparsed');
    }
    // only the 8-byte trailer missing: the whole request inflated, yet the body is still a prefix
    expect(describeRequestBody('git-upload-pack', 2, gz.subarray(0, gz.length - 8), 'gzip')).toMatchObject({
      wants: [third, third],
      haveCount: 2,
      truncated: true,
    });
  });

  it('a gzip push cut inside the PACK still names every update and option', () => {
    const body = fixture('push-receive-pack.request.bin');
    const gz = gzipSync(body);
    const description = describeRequestBody('git-receive-pack', 0, gz.subarray(0, gz.length - 10), 'gzip');
    expect(description).toMatchObject({ refUpdates: pushUpdates, pushOptions: ['ci.skip', 'reviewer=fixture'], truncated: true });
  });
});

describe('describeRequestBody on garbage', () => {
  it.each([
    { what: 'text that is not pkt-line framing', body: Buffer.from('GET / HTTP/1.1\r\n\r\n'), encoding: undefined },
    { what: 'a reserved 0003 header', body: Buffer.from('0003'), encoding: undefined },
    { what: 'an oversized pkt-line length', body: Buffer.from('ffffxxxx'), encoding: undefined },
    { what: 'a bad v2 command line', body: Buffer.from('000fnot-command'), encoding: undefined },
    { what: 'a plain body declared gzip', body: fixture('clone-v2-fetch.request.bin'), encoding: 'gzip' },
  ])('$what → { unparsed }', ({ body, encoding }) => {
    const description = describeRequestBody('git-upload-pack', 2, body, encoding);
    expect(Object.keys(description)).toEqual(['unparsed']);
    expect(typeof description.unparsed).toBe('string');
    expect(description.unparsed).not.toBe('');
  });

  it('a push with a malformed command → { unparsed } naming the line', () => {
    const line = 'not a command';
    const body = Buffer.from(`${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`);
    expect(describeRequestBody('git-receive-pack', 0, body, undefined)).toEqual({
      unparsed: expect.stringContaining('not a command'),
    });
  });

  it('never throws, whatever the bytes, endpoint, version or encoding (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.constantFrom('git-upload-pack' as const, 'git-receive-pack' as const),
        fc.constantFrom(0, 1, 2),
        fc.constantFrom(undefined, 'gzip', 'identity'),
        (bytes, endpoint, protocol, encoding) => {
          const description = describeRequestBody(endpoint, protocol, Buffer.from(bytes), encoding);
          expect(typeof description).toBe('object');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on fixtures with random bytes flipped (property)', () => {
    const bodies = ['clone-v2-fetch.request.bin', 'push-receive-pack.request.bin', 'clone-v0-upload-pack.request.bin'].map(fixture);
    fc.assert(
      fc.property(fc.nat({ max: bodies.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (which, at, byte) => {
        const body = Buffer.from(bodies[which]!);
        body[at % body.length] = byte;
        const endpoint = which === 1 ? 'git-receive-pack' : 'git-upload-pack';
        expect(() => describeRequestBody(endpoint, which === 0 ? 2 : 0, body, undefined)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
