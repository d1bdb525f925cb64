/**
 * Request bodies captured from real git 2.39.5 by test/fixtures/wire/capture.ts, and the commit
 * ids of the repository they were captured against (from `git rev-parse`, not from our parsers).
 */
import { readFileSync } from 'node:fs';

const wireDir = new URL('../../../fixtures/wire/', import.meta.url);

export type WireManifest = { git: string; commits: { first: string; second: string; third: string; fourth: string } };

export const wireManifest = JSON.parse(readFileSync(new URL('manifest.json', wireDir), 'utf8')) as WireManifest;

export function readWireFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, wireDir)));
}
