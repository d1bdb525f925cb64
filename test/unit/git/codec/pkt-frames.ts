/** Test-side tools for pkt-line frames: a fast-check generator and a cheap comparable form. */
import fc from 'fast-check';
import type { Pkt } from '../../../../src/git/codec/index.ts';

export const pktArbitrary: fc.Arbitrary<Pkt> = fc.oneof(
  { weight: 12, arbitrary: fc.uint8Array({ maxLength: 200 }).map((payload): Pkt => ({ kind: 'data', payload })) },
  // Lines at the size limit, where an off-by-four in the header arithmetic would show.
  { weight: 1, arbitrary: fc.integer({ min: 65000, max: 65516 }).map((n): Pkt => ({ kind: 'data', payload: new Uint8Array(n).fill(0x61) })) },
  { weight: 1, arbitrary: fc.constant<Pkt>({ kind: 'flush' }) },
  { weight: 1, arbitrary: fc.constant<Pkt>({ kind: 'delim' }) },
  { weight: 1, arbitrary: fc.constant<Pkt>({ kind: 'response-end' }) },
);

/**
 * Frames as strings (`data:<hex>`, `flush`…). Deep equality walks a Uint8Array element by element,
 * which is far too slow for 64 KiB payloads in a property test; string comparison is not.
 */
export function showPkts(pkts: Iterable<Pkt>): string[] {
  return [...pkts].map((pkt) => (pkt.kind === 'data' ? `data:${Buffer.from(pkt.payload).toString('hex')}` : pkt.kind));
}
