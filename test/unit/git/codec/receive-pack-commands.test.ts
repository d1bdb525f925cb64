import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ZERO_OID,
  decodePktLinePrefix,
  isZeroOid,
  parseReceivePackCommands,
  writeReceivePackCommands,
} from '../../../../src/git/codec/index.ts';
import type { Pkt, ReceivePackCommand } from '../../../../src/git/codec/index.ts';
import { readWireFixture, wireManifest } from './wire-fixtures.ts';

const { first, second, third, fourth } = wireManifest.commits;

function frames(...items: string[]): Pkt[] {
  return items.map((item): Pkt => (item === 'flush' ? { kind: 'flush' } : { kind: 'data', payload: new TextEncoder().encode(item) }));
}

/** The two pkt-line sections of a receive-pack body, as a caller holding a captured prefix gets them. */
function decodeSections(body: Uint8Array): { commands: Pkt[]; options: Pkt[]; packOffset: number } {
  const commands = decodePktLinePrefix(body, { stopAfterFlush: true });
  const options = decodePktLinePrefix(body.subarray(commands.restOffset), { stopAfterFlush: true });
  return { commands: commands.pkts, options: options.pkts, packOffset: commands.restOffset + options.restOffset };
}

describe('parseReceivePackCommands on pushes captured from git 2.39.5', () => {
  const body = readWireFixture('push-receive-pack.request.bin');
  const { commands, options, packOffset } = decodeSections(body);
  const parsed = parseReceivePackCommands(commands, options);

  it('reads an update, a delete and a create with the push options', () => {
    expect(parsed).toEqual({
      updates: [
        { oldOid: second, newOid: third, ref: 'refs/heads/main' },
        { oldOid: first, newOid: ZERO_OID, ref: 'refs/heads/topic' },
        { oldOid: ZERO_OID, newOid: third, ref: 'refs/heads/feature' },
      ],
      capabilities: ['report-status-v2', 'side-band-64k', 'quiet', 'push-options', 'object-format=sha1', 'agent=git/2.39.5'],
      shallows: [],
      pushOptions: ['ci.skip', 'reviewer=fixture'],
    });
    expect(new TextDecoder().decode(body.subarray(packOffset, packOffset + 4))).toBe('PACK');
  });

  it('writes the same bytes git wrote', () => {
    const written = writeReceivePackCommands(parsed.updates, parsed.capabilities, { pushOptions: parsed.pushOptions });
    expect(Buffer.from(written).equals(Buffer.from(body.subarray(0, packOffset)))).toBe(true);
  });

  it('takes the commands from inside a signed push certificate', () => {
    const signed = readWireFixture('push-signed-receive-pack.request.bin');
    const { pkts, restOffset } = decodePktLinePrefix(signed, { stopAfterFlush: true });
    // No push-options capability, so the PACK follows the first flush straight away.
    expect(new TextDecoder().decode(signed.subarray(restOffset, restOffset + 4))).toBe('PACK');
    expect(parseReceivePackCommands(pkts)).toEqual({
      updates: [{ oldOid: third, newOid: fourth, ref: 'refs/heads/main' }],
      capabilities: ['report-status-v2', 'side-band-64k', 'quiet', 'object-format=sha1', 'agent=git/2.39.5'],
      shallows: [],
      pushOptions: [],
    });
  });
});

describe('writeReceivePackCommands', () => {
  const oid = fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.constant(ZERO_OID));
  const command = fc.record({ oldOid: oid, newOid: oid, ref: fc.stringMatching(/^refs\/heads\/[A-Za-z0-9._/-]{1,40}$/) });
  const token = fc.stringMatching(/^[a-z0-9=._/-]{1,20}$/);
  const pushOption = fc.stringMatching(/^[ -~]{0,60}$/).filter((text) => !text.endsWith('\n'));

  it('is read back by parseReceivePackCommands', () => {
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 6 }), fc.array(token, { maxLength: 6 }),
        fc.array(oid, { maxLength: 3 }), fc.array(pushOption, { maxLength: 4 }),
        (updates, capabilities, shallows, pushOptions) => {
          const { commands, options } = decodeSections(writeReceivePackCommands(updates, capabilities, { shallows, pushOptions }));
          expect(parseReceivePackCommands(commands, options)).toEqual({ updates, capabilities, shallows, pushOptions });
        },
      ),
    );
  });

  it.each<[string, ReceivePackCommand]>([
    ['a ref with a space', { oldOid: first, newOid: second, ref: 'refs/heads/a b' }],
    ['a short oid', { oldOid: first.slice(2), newOid: second, ref: 'refs/heads/main' }],
    ['mixed sha1 and sha256 ids', { oldOid: first, newOid: 'a'.repeat(64), ref: 'refs/heads/main' }],
  ])('refuses to write %s', (_name, bad) => {
    expect(() => writeReceivePackCommands([bad], [])).toThrow(/receive-pack command line/);
  });
});

describe('parseReceivePackCommands', () => {
  const update = `${first} ${second} refs/heads/main`;

  it('reads shallow lines and sha256 ids', () => {
    const sha = 'c'.repeat(64);
    expect(parseReceivePackCommands(frames(`shallow ${first}\n`, `${sha} ${'0'.repeat(64)} refs/tags/v1\0 quiet`, 'flush')))
      .toMatchObject({ shallows: [first], updates: [{ oldOid: sha, newOid: '0'.repeat(64), ref: 'refs/tags/v1' }], capabilities: ['quiet'] });
  });

  it('skips certificate headers and signature, keeping only the signed commands', () => {
    const cert = frames('push-cert\0 report-status push-options\n', 'certificate version 0.1\n', 'pusher Test <test@example.invalid> 0 +0000\n',
      'pushee http://example.invalid/repo.git\n', 'nonce 0-fake\n', 'push-option ci.skip\n', '\n', `${update}\n`,
      '-----BEGIN PGP SIGNATURE-----\n', 'FAKE-SIGNATURE-NOT-REAL\n', '-----END PGP SIGNATURE-----\n', 'push-cert-end\n', 'flush');
    expect(parseReceivePackCommands(cert, frames('ci.skip', 'flush'))).toEqual({
      updates: [{ oldOid: first, newOid: second, ref: 'refs/heads/main' }],
      capabilities: ['report-status', 'push-options'], shallows: [], pushOptions: ['ci.skip'],
    });
  });

  it.each([
    ['capabilities on a later line', [update, `${update}\0 push-options`], 'only the first command'],
    ['a command with a bad oid', [`${first} nothex refs/heads/main`], '<old-oid> <new-oid> <ref>'],
    ['a command without a ref', [`${first} ${second}`], '<old-oid> <new-oid> <ref>'],
    ['a signed ref with a control character', ['push-cert', '\n', `${update}\x01`, 'push-cert-end'], '<old-oid> <new-oid> <ref>'],
    ['a bad shallow line', ['shallow 1234'], 'shallow <oid>'],
    ['commands beside a certificate', ['push-cert\0 quiet', '\n', update, 'push-cert-end', update], 'outside a push certificate'],
    ['a certificate without its end', ['push-cert\0 quiet', '\n', update], 'without "push-cert-end"'],
    ['a certificate without a blank line', ['push-cert', update, 'push-cert-end'], 'no blank line'],
  ])('refuses %s', (_name, lines, why) => {
    expect(() => parseReceivePackCommands(frames(...lines, 'flush'))).toThrow(why);
  });

  it('refuses a delim, which protocol v0 does not have', () => {
    expect(() => parseReceivePackCommands([{ kind: 'delim' }])).toThrow('no delim');
  });
});

describe('isZeroOid', () => {
  it.each([
    [ZERO_OID, true], ['0'.repeat(64), true], ['0'.repeat(39), false], [first, false], ['', false],
  ])('%j → %s', (oid, expected) => {
    expect(isZeroOid(oid)).toBe(expected);
  });
});
