import { describe, expect, it } from 'vitest';
import {
  SCRAM_SHA_256,
  ScramClientSession,
  ScramError,
  ScramServerSession,
  createDecoyScramSession,
  createScramVerifier,
  decodeScramVerifier,
  encodeScramVerifier,
} from '../../../src/identity/scram.ts';

const text = (bytes: Buffer): string => bytes.toString('latin1');
const bytes = (value: string): Buffer => Buffer.from(value, 'latin1');

/** A full exchange; the server's outcome and whether the client accepted the server's proof. */
function exchange(server: ScramServerSession, client: ScramClientSession): { ok: boolean; clientVerified: boolean } {
  const serverFirst = server.start(client.first());
  const result = server.finish(client.respond(serverFirst));
  if (!result.ok) return { ok: false, clientVerified: false };
  client.verify(result.serverFinal);
  return { ok: true, clientVerified: true };
}

describe('RFC 7677 test vector (SCRAM-SHA-256, user "user", password "pencil")', () => {
  const C1 = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
  const S1 = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const C2 = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
  const S2 = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

  it('the client sends exactly the RFC messages and accepts the server signature', () => {
    const client = new ScramClientSession('pencil', 'rOprNGfwEbeRWgbNEkqO', 'user');
    expect(text(client.first())).toBe(C1);
    expect(text(client.respond(bytes(S1)))).toBe(C2);
    expect(() => client.verify(bytes(S2))).not.toThrow();
  });

  it('the server answers exactly the RFC messages', () => {
    const verifier = createScramVerifier('pencil', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations: 4096 });
    const server = new ScramServerSession(verifier, '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    expect(text(server.start(bytes(C1)))).toBe(S1);
    const result = server.finish(bytes(C2));
    expect(result.ok && text(result.serverFinal)).toBe(S2);
  });
});

describe('verifiers', () => {
  it("encode in PostgreSQL's rolpassword format and decode back", () => {
    const verifier = createScramVerifier('pcl_fake_token', { salt: Buffer.alloc(16, 1), iterations: 4096 });
    const encoded = encodeScramVerifier(verifier);
    expect(encoded).toMatch(/^SCRAM-SHA-256\$4096:AQEBAQEBAQEBAQEBAQEBAQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(decodeScramVerifier(encoded)).toEqual(verifier);
  });

  it('match what PostgreSQL stored for the same password and salt', () => {
    // CREATE ROLE … PASSWORD 'pencil' with password_encryption = scram-sha-256 (PostgreSQL 15)
    const stored = 'SCRAM-SHA-256$4096:I6G1VXBQX0kRsV2Gq7dDOA==$tvMiDSPXe9Ka2RzKI7+jSG8GkYn7iTYZu42D6IkRubc=:0j9sPrNXNOwCHfByQoPOOUqTR9IlwgL2nw9dBBzSenA=';
    const decoded = decodeScramVerifier(stored);
    expect(decoded).not.toBeNull();
    if (!decoded) return;
    expect(encodeScramVerifier(createScramVerifier('pencil', { salt: decoded.salt, iterations: decoded.iterations }))).toBe(stored);
    expect(exchange(new ScramServerSession(decoded), new ScramClientSession('pencil')).ok).toBe(true);
  });

  it('use a fresh 16-byte salt and 4096 iterations by default', () => {
    const a = createScramVerifier('x');
    const b = createScramVerifier('x');
    expect(a.iterations).toBe(4096);
    expect(a.salt).toHaveLength(16);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(() => createScramVerifier('x', { iterations: 0 })).toThrow(RangeError);
  });

  it.each([
    '',
    'md5d621238dc9a10c6c869b264c13379ee7',
    'SCRAM-SHA-256$0:AQEB$' + 'A'.repeat(43) + '=:' + 'A'.repeat(43) + '=',
    'SCRAM-SHA-256$4096:$' + 'A'.repeat(43) + '=:' + 'A'.repeat(43) + '=',
    'SCRAM-SHA-256$4096:AQEB$' + 'A'.repeat(40) + ':' + 'A'.repeat(43) + '=',
    'SCRAM-SHA-256$4096:AQE$' + 'A'.repeat(43) + '=:' + 'A'.repeat(43) + '=',
    'SCRAM-SHA-256$99999999999:AQEB$' + 'A'.repeat(43) + '=:' + 'A'.repeat(43) + '=',
    'SCRAM-SHA-1$4096:AQEB$' + 'A'.repeat(43) + '=:' + 'A'.repeat(43) + '=',
  ])('decode %j as null', (value) => {
    expect(decodeScramVerifier(value)).toBeNull();
  });
});

describe('ScramServerSession against ScramClientSession', () => {
  const verifier = createScramVerifier('pcl_fake_token_for_tests', { iterations: 1024 });

  it('authenticates the right password and proves itself to the client', () => {
    expect(exchange(new ScramServerSession(verifier), new ScramClientSession('pcl_fake_token_for_tests'))).toEqual({ ok: true, clientVerified: true });
  });

  it('refuses a wrong password without throwing', () => {
    expect(exchange(new ScramServerSession(verifier), new ScramClientSession('pcl_fake_token_for_tesTs')).ok).toBe(false);
  });

  it('uses the injected nonces (base64 of the bytes, as PostgreSQL)', () => {
    const client = new ScramClientSession('x', Buffer.alloc(18, 0));
    expect(text(client.first())).toBe('n,,n=,r=AAAAAAAAAAAAAAAAAAAAAAAA');
    const server = new ScramServerSession(verifier, Buffer.alloc(18, 0xff));
    expect(text(server.start(client.first()))).toBe(`r=AAAAAAAAAAAAAAAAAAAAAAAA////////////////////////,s=${verifier.salt.toString('base64')},i=1024`);
  });

  it("accepts the 'y' flag (the client could bind, but we offer no -PLUS)", () => {
    const server = new ScramServerSession(verifier);
    const serverFirst = text(server.start(bytes('y,,n=,r=abc')));
    const nonce = /^r=([^,]+)/.exec(serverFirst)?.[1] ?? '';
    // A client using 'y' must send c=eSws (base64 of 'y,,'); the proof is wrong here, which is fine.
    const result = server.finish(bytes(`c=eSws,r=${nonce},p=${Buffer.alloc(32).toString('base64')}`));
    expect(result.ok).toBe(false);
  });

  it.each([
    ['p=tls-server-end-point,,n=,r=abc', /channel binding.*not supported/],
    ['n,a=admin,n=,r=abc', /authorization identity/],
    ['n,,m=ext,n=,r=abc', /unsupported SCRAM extension/],
    ['x,,n=,r=abc', /gs2 flag/],
    ['n,,r=abc', /expected n= then r=/],
    ['n,,n=', /expected n= then r=/],
    ['n,,n=,r=a,bc', /bad attribute/],
    ['n,,n=,r=', /invalid client nonce/],
    ['', /gs2 flag/],
  ])('start refuses %j', (clientFirst, message) => {
    expect(() => new ScramServerSession(verifier).start(bytes(clientFirst))).toThrow(ScramError);
    expect(() => new ScramServerSession(verifier).start(bytes(clientFirst))).toThrow(message);
  });

  it('finish refuses a changed nonce, a wrong channel binding, a malformed proof, and calls out of order', () => {
    const started = (): { server: ScramServerSession; nonce: string } => {
      const server = new ScramServerSession(verifier);
      const nonce = /^r=([^,]+)/.exec(text(server.start(bytes('n,,n=,r=abc'))))?.[1] ?? '';
      return { server, nonce };
    };
    const proof = Buffer.alloc(32).toString('base64');
    let s = started();
    expect(() => s.server.finish(bytes(`c=biws,r=${s.nonce}x,p=${proof}`))).toThrow(/nonce mismatch/);
    s = started();
    expect(() => s.server.finish(bytes(`c=eSws,r=${s.nonce},p=${proof}`))).toThrow(/channel-binding/);
    s = started();
    expect(() => s.server.finish(bytes(`c=biws,r=${s.nonce},p=AAAA`))).toThrow(/invalid proof/);
    s = started();
    expect(() => s.server.finish(bytes(`c=biws,r=${s.nonce}`))).toThrow(/no proof/);
    expect(() => s.server.finish(bytes(`c=biws,r=${s.nonce},p=${proof}`))).toThrow(/already finished/);
    expect(() => new ScramServerSession(verifier).finish(bytes('c=biws,r=x,p=y'))).toThrow(/before client-first/);
    s = started();
    expect(() => s.server.start(bytes('n,,n=,r=abc'))).toThrow(/already started/);
  });
});

describe('createDecoyScramSession', () => {
  const secret = Buffer.from('a fake decoy secret for tests');
  const saltOf = (session: ScramServerSession): string => /,s=([^,]+),/.exec(text(session.start(bytes('n,,n=,r=abc'))))?.[1] ?? '';

  it('answers like a real session, with a salt stable per user and different between users', () => {
    const first = saltOf(createDecoyScramSession(secret, 'ghost'));
    expect(Buffer.from(first, 'base64')).toHaveLength(16);
    expect(saltOf(createDecoyScramSession(secret, 'ghost'))).toBe(first);
    expect(saltOf(createDecoyScramSession(secret, 'other'))).not.toBe(first);
    expect(saltOf(createDecoyScramSession(Buffer.from('another secret'), 'ghost'))).not.toBe(first);
    const serverFirst = text(createDecoyScramSession(secret, 'ghost').start(bytes('n,,n=,r=abc')));
    expect(serverFirst).toMatch(/^r=abc[A-Za-z0-9+/]{24},s=[A-Za-z0-9+/]{22}==,i=4096$/);
  });

  it('always fails, whatever the password', () => {
    for (const password of ['', 'ghost', 'pcl_fake_token', 'a decoy secret for tests']) {
      expect(exchange(createDecoyScramSession(secret, 'ghost'), new ScramClientSession(password)).ok).toBe(false);
    }
  });

  it('still refuses malformed messages like a real session', () => {
    expect(() => createDecoyScramSession(secret, 'ghost').start(bytes('p=x,,n=,r=abc'))).toThrow(ScramError);
  });
});

describe('ScramClientSession', () => {
  const verifier = createScramVerifier('right', { iterations: 1024 });

  it('throws when the server signature is wrong (a server that does not know the password)', () => {
    const server = new ScramServerSession(createScramVerifier('wrong', { salt: verifier.salt, iterations: 1024 }));
    const client = new ScramClientSession('right');
    const serverFirst = server.start(client.first());
    client.respond(serverFirst);
    expect(() => client.verify(bytes(`v=${Buffer.alloc(32).toString('base64')}`))).toThrow(/wrong SCRAM signature/);
    expect(() => client.verify(bytes('e=invalid-proof'))).toThrow(/refused SCRAM authentication: invalid-proof/);
    expect(() => client.verify(bytes('x'))).toThrow(ScramError);
  });

  it.each([
    ['r=other,s=AAAA,i=4096', /nonce does not extend ours/],
    ['r=NONCE,s=AAAA,i=4096', /nonce does not extend ours/],
    ['r=NONCEx,s=A,i=4096', /invalid salt/],
    ['r=NONCEx,s=AAAA,i=0', /invalid iteration count/],
    ['r=NONCEx,s=AAAA,i=-1', /invalid iteration count/],
    ['r=NONCEx,s=AAAA,i=99999999999', /invalid iteration count/],
    ['r=NONCEx,i=4096,s=AAAA', /expected r=, s=, i=/],
    ['m=x,r=NONCEx,s=AAAA,i=1', /unsupported SCRAM extension/],
  ])('respond refuses %j', (serverFirst, message) => {
    const client = new ScramClientSession('right', 'NONCE');
    expect(() => client.respond(bytes(serverFirst))).toThrow(message);
  });

  it('refuses calls out of order', () => {
    const client = new ScramClientSession('right', 'NONCE');
    expect(() => client.verify(bytes('v=x'))).toThrow(/before server-first/);
    client.respond(bytes('r=NONCEx,s=AAAA,i=1'));
    expect(() => client.respond(bytes('r=NONCEx,s=AAAA,i=1'))).toThrow(/twice/);
  });

  it('escapes the optional user name as a saslname', () => {
    expect(text(new ScramClientSession('x', 'N', 'a=b,c').first())).toBe('n,,n=a=3Db=2Cc,r=N');
    expect(SCRAM_SHA_256).toBe('SCRAM-SHA-256');
  });
});
