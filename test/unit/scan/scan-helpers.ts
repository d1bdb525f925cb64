import type { ScanInput } from '../../../src/scan/index.ts';

/** A ScanInput whose lines are numbered from `first`. */
export function input(path: string, lines: readonly string[], first = 1): ScanInput {
  return { path, lines: lines.map((text, i) => ({ line: first + i, text })) };
}
