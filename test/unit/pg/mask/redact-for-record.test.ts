import { describe, expect, it } from 'vitest';
import { detectorSet, inspectParameters, redactText } from '../../../../src/pg/mask/index.ts';

describe('inspectParameters (Bind)', () => {
  it('flags and redacts detected values, keeps others readable', () => {
    const result = inspectParameters([Buffer.from('mail a@example.com please'), Buffer.from('42'), null, Buffer.from('4111111111111111')], []);
    expect(result.sensitive).toEqual([true, false, false, true]);
    expect(result.redacted).toEqual(['mail **** please', '42', null, '****']);
  });

  it('honours one format for all, or one per parameter; binary values show as hex', () => {
    const int = Buffer.from([0, 0, 0, 42]);
    expect(inspectParameters([int, int], [1]).redacted).toEqual(['\\x0000002a', '\\x0000002a']);
    expect(inspectParameters([Buffer.from('x'), Buffer.from('a@example.com')], [0, 1]).redacted).toEqual(['x', '****']);
  });

  it('cuts long values and uses only the enabled detectors', () => {
    expect(inspectParameters([Buffer.from('y'.repeat(1000))], []).redacted[0]).toMatch(/^y{256}…\[1000 chars\]$/);
    expect(inspectParameters([Buffer.from('a@example.com')], [], detectorSet(['card'])).sensitive).toEqual([false]);
  });
});

describe('redactText (statement texts on the record)', () => {
  it('masks detected literals and leaves the rest of the statement', () => {
    expect(redactText("insert into users (email, card) values ('a@example.com', '4111 1111 1111 1111')")).toBe("insert into users (email, card) values ('****', '****')");
    expect(redactText('select 1')).toBe('select 1');
  });
});
