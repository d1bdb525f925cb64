import { describe, expect, it } from 'vitest';
import { createScramVerifier, decodeScramVerifier } from '../../../src/identity/scram.ts';
import { saslprep } from '../../../src/identity/saslprep.ts';

describe('saslprep', () => {
  it('leaves ASCII alone, control characters included (PostgreSQL takes ASCII as is)', () => {
    for (const password of ['', 'pencil', 'pcl_fake_token_0123456789abcdef', 'a b', 'tab\there', '\u0007bell']) expect(saslprep(password)).toBe(password);
  });

  it.each([
    ['I\u00ADX', 'IX', 'soft hyphen mapped to nothing (RFC 4013 example)'],
    ['\u00AA', 'a', 'NFKC (RFC 4013 example)'],
    ['\u2168', 'IX', 'NFKC (RFC 4013 example)'],
    ['a\u00A0b', 'a b', 'non-ASCII space mapped to space'],
    ['\uFF21\uFF22\uFF23', 'ABC', 'fullwidth letters'],
    ['pa\u0301sswo\u0308rd', 'p\u00E1ssw\u00F6rd', 'composed'],
    ['\u05D0\u05D1', '\u05D0\u05D1', 'right-to-left only'],
  ])('maps %j to %j (%s)', (input, output) => {
    expect(saslprep(input)).toBe(output);
  });

  it.each([
    ['e\u0301\u0007', 'a control character'],
    ['\uE000x\u0301', 'a private-use character'],
    ['\u0627\u0031', 'a bidi violation (RandALCat not at the end)'],
    ['\u05D0a\u05D1', 'RandALCat mixed with LCat'],
    ['\u{1F511}ke\u0301y', 'a code point unassigned in Unicode 3.2'],
    ['\u00AD', 'nothing left after mapping'],
  ])('falls back to the raw password for %j (%s), as PostgreSQL does', (input) => {
    expect(saslprep(input)).toBe(input);
  });

  // Verifiers PostgreSQL 15 stored for these passwords (CREATE ROLE … PASSWORD U&'…'): the same
  // salt and iteration count must give the same keys, which only holds if the prepared bytes agree.
  it.each([
    ['p\u00E4ssw\u00F6rd', 'SCRAM-SHA-256$4096:aaIxm8xpXuobMBMXVar2LQ==$Nes0VOQyQmEsDLu156L1qyrEPky+X5QwtcqD8UW2CKU=:dBUPnmjZsJFEF2nhdoQG0LRGmLQwN7udfxAuTCbi/Z4='],
    ['pa\u0301sswo\u0308rd', 'SCRAM-SHA-256$4096:qv9spY2SJraK4lWh3hvT8g==$LJQcjBD+8WmheUfmfIazLo3vKh6srpp9g5pvtDngHZQ=:DK2slT6Avc5uSmDyIBSdKE7pzralK2OWG5dYBAx+/g4='],
    ['\uFF21\uFF22\uFF23', 'SCRAM-SHA-256$4096:rSSCg+TOimRnKmliqted2g==$L58GBQqe4bxUwKp9IyxV+6bfCK9fk3zwdY3jBZOsoBQ=:Q87CH1vL6gfG9mEw49Ek4u3uW8IeR7Urrwoc/0tu9/0='],
    ['a\u00A0b', 'SCRAM-SHA-256$4096:h6NMaKvvLOthAPlRnPvjcQ==$AGTNHC8DMmBtZz7TkoydP8Eo1Y0Jq3ll+A+t3PUOOJE=:VbnL5974KnQx5ytC8emW/+594l9UMhCeFjeTx339aFs='],
    ['I\u00ADX', 'SCRAM-SHA-256$4096:cYKLnETfQD1SglnTA29TFQ==$rpyOfvRnjq3KUNrtdXN60kpFEjmb5FMztYZ0hH3NaHc=:tm2vS0im4nBXHVeRi234JHbTDBWrTaWK+/0oVN9xHU4='],
    ['\u2168', 'SCRAM-SHA-256$4096:zC8Jj8Cybzjo8+GuICNF9Q==$wrVpVU3t3CqGQzHJZnT98GDDJv5QEUCaKxp9P6ReXR0=:Cqjf4d8vd5BXlFUlqRzGaatzhbDRxzGu90cLLpj3FUE='],
    ['\uE000x\u0301', 'SCRAM-SHA-256$4096:RpDbmdQFPRKKqsx0LwEycw==$tCtYfCiwn599n4XWaS/jj4DqZLvEL/ChTyq7Yq7T4rI=:LW/MkoW7dlYIx2ZNiVd3xf3EWhb8v4Gt0gvr9pn9qwM='],
    ['\u0627\u0031', 'SCRAM-SHA-256$4096:xer5W5GAN8a5hzEg4CNQ9w==$ml5Z99xMaKPi47L+ruzqVcym3VqeyHVp/7Ly7Rg3tUU=:ohZ/uq/njcLJD/pACrShIXaXtefDXY2+XAyuQnvTb/w='],
    ['\u05D0\u05D1', 'SCRAM-SHA-256$4096:gPVk8krMv23RRVe3i+FM8w==$GcyYypKQrE9YnMuS77PnKOGuMZCJXKamqzH+imCFxo4=:bGEFC8XxqCvdGYVpl7WHvvgSTvFrVDj9SYubQT3UeIw='],
    ['\u{1F511}ke\u0301y', 'SCRAM-SHA-256$4096:6gIPDnqLWhBQNLcpJreEPw==$nm6upBVJVCjtXSXGt40TKiBX3iikM0PVTU/PODGr4BA=:ESoqKcFepPzuZJg6x9xxjNjt8nETw5MhNfduf7R3AA8='],
    ['e\u0301\u0007', 'SCRAM-SHA-256$4096:ma4K5hTfgFM3rQUjKsziwg==$Wh9fcGgPJI9tGTyVCaoxxZCrHQ56Bprbx4ZpL/eSAxA=:nM8vVW6BFkfu/HFgPupjOGSY/3pBo4yGF1fsBBi2qfs='],
  ])('agrees with PostgreSQL on %j', (password, stored) => {
    const fromServer = decodeScramVerifier(stored);
    expect(fromServer).not.toBeNull();
    if (!fromServer) return;
    expect(createScramVerifier(password, { salt: fromServer.salt, iterations: fromServer.iterations })).toEqual(fromServer);
  });
});
