/**
 * `npm run bench:scan`: secret-scanning throughput in MB/s of added text, on one core, over a
 * generated ~50 MB mixed corpus (code, config, prose, lockfiles, minified and base64 lines, with
 * FAKE credentials from test/fixtures/secrets sprinkled in). Printed side by side on a 5 MB slice:
 * secretlint's preset alone with its profiler on (its default) and off, so the profiler's cost is
 * visible. Not a test: nothing here asserts a timing.
 *
 *   BENCH_MB=50 npm run bench:scan
 */
import { performance } from 'node:perf_hooks';
import { lintSource } from '@secretlint/core';
import { createSecretScanner, type ScanInput } from '../src/scan/index.ts';
import { loadSecretlintRules } from '../src/scan/secretlint/config.ts';
import { switchProfilerOff } from '../src/scan/secretlint/engine.ts';
import { generateCorpus } from '../test/fixtures/secrets/corpus.ts';
import { ALNUM, HEX, LOWER_ALNUM, createRng, type Rng } from '../test/fixtures/secrets/random.ts';

const TOTAL_MB = Number(process.env.BENCH_MB ?? 50);
const SLICE_MB = 5;

const words = ['user', 'order', 'item', 'config', 'request', 'response', 'handler', 'cache', 'value', 'result', 'index', 'count', 'name', 'status', 'payload', 'session', 'client', 'server', 'queue', 'event'];
const ident = (r: Rng) => `${r.pick(words)}${r.pick(words).replace(/^./, (c) => c.toUpperCase())}${r.int(0, 9)}`;
const templates: Array<(r: Rng) => string> = [
  (r) => `  const ${ident(r)} = await ${ident(r)}.${r.pick(['get', 'find', 'load', 'fetch'])}(${ident(r)}, { limit: ${r.int(1, 500)} });`,
  (r) => `  if (${ident(r)} === undefined || ${ident(r)}.length > ${r.int(2, 99)}) return ${r.pick(['null', 'false', '[]', `'${r.pick(words)}'`])};`,
  (r) => `export function ${ident(r)}(${ident(r)}: ${r.pick(['string', 'number', 'Buffer', 'Record<string, unknown>'])}): ${r.pick(['void', 'boolean', 'Promise<void>'])} {`,
  (r) => `    ${ident(r)} = ${ident(r)}[${r.int(0, 9)}] + ${r.int(0, 9999)}  # ${r.pick(words)} ${r.pick(words)}`,
  (r) => `def ${ident(r)}(self, ${ident(r)}, ${ident(r)}=None):`,
  (r) => `  ${r.pick(words)}_${r.pick(words)}: ${r.pick([String(r.int(0, 65535)), 'true', 'false', `"${r.pick(words)}-${r.pick(words)}"`])}`,
  (r) => `    "${r.pick(words)}${r.int(0, 99)}": ${r.pick([String(r.int(0, 1e6)), `"${r.chars(LOWER_ALNUM, r.int(4, 20))}"`, 'null'])},`,
  (r) => `The ${r.pick(words)} ${r.pick(words)} is sent to the ${r.pick(words)} before the ${r.pick(words)} times out; see https://docs.fake.test/${r.pick(words)}.`,
  (r) => `      "integrity": "sha512-${r.bytes(64).toString('base64')}",`,
  (r) => `- ${r.pick(['fix', 'add', 'remove', 'update'])} ${r.pick(words)} handling (${r.chars(HEX, 40)})`,
  (r) => `INSERT INTO ${r.pick(words)}s (id, ${r.pick(words)}) VALUES ('${r.chars(HEX, 8)}-${r.chars(HEX, 4)}-4${r.chars(HEX, 3)}-a${r.chars(HEX, 3)}-${r.chars(HEX, 12)}', ${r.int(0, 999)});`,
  (r) => `!function(e){var t=${r.int(0, 99)};${Array.from({ length: r.int(50, 400) }, () => `e.${ident(r)}=function(n){return n.${ident(r)}(${r.int(0, 9)})}`).join(';')}}(window);`,
  (r) => `data:image/png;base64,${r.bytes(r.int(600, 6000)).toString('base64')}`,
  (r) => `// ${ident(r)}: ${r.chars(ALNUM, r.int(10, 60))}`,
];

function generateInputs(rng: Rng, megabytes: number): ScanInput[] {
  const planted = generateCorpus(7).positives;
  const inputs: ScanInput[] = [];
  let total = 0;
  let file = 0;
  while (total < megabytes * 1e6) {
    const target = rng.int(2_000, 200_000);
    const lines: string[] = [];
    let size = 0;
    while (size < target) {
      const line = rng.next() < 0.01 ? rng.pick(planted).lines.join('\n') : rng.pick(templates)(rng);
      for (const part of line.split('\n')) {
        lines.push(part);
        size += part.length + 1;
      }
    }
    inputs.push({ path: `src/file${file++}.${rng.pick(['ts', 'py', 'json', 'yaml', 'md'])}`, lines: lines.map((text, i) => ({ line: i + 1, text })) });
    total += size;
  }
  return inputs;
}

const bytesOf = (inputs: ScanInput[]) => inputs.reduce((sum, input) => sum + input.lines.reduce((s, l) => s + l.text.length + 1, 0), 0);
const mbPerSecond = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

async function timeSecretlintPreset(inputs: ScanInput[]): Promise<number> {
  const rules = await loadSecretlintRules();
  const start = performance.now();
  for (const input of inputs) {
    await lintSource({
      source: { filePath: input.path, content: input.lines.map((l) => l.text).join('\n'), contentType: 'text', ext: '' },
      options: { config: { rules }, noPhysicFilePath: true },
    });
  }
  return performance.now() - start;
}

const rng = createRng(2024);
const inputs = generateInputs(rng, TOTAL_MB);
const bytes = bytesOf(inputs);
// The slice is cut into ~2 KB inputs, the size of a typical added hunk: secretlint's profiler costs
// per file and per rule, so that is where it shows.
const slice: ScanInput[] = [];
let sliceBytes = 0;
for (const input of inputs) {
  for (let i = 0; i < input.lines.length && sliceBytes < SLICE_MB * 1e6; ) {
    const lines: ScanInput['lines'] = [];
    let size = 0;
    for (; i < input.lines.length && size < 2_000; i += 1) {
      lines.push(input.lines[i]!);
      size += input.lines[i]!.text.length + 1;
    }
    slice.push({ path: input.path, lines });
    sliceBytes += size;
  }
}
console.log(`corpus: ${(bytes / 1e6).toFixed(1)} MB in ${inputs.length} files; slice for secretlint alone: ${(sliceBytes / 1e6).toFixed(1)} MB in ${slice.length} inputs`);

// Profiler on first: switching it off cannot be undone on secretlint 11.x.
const presetProfilerOn = await timeSecretlintPreset(slice);
switchProfilerOff();
const presetProfilerOff = await timeSecretlintPreset(slice);
console.log(`secretlint preset alone, profiler on (default): ${mbPerSecond(sliceBytes, presetProfilerOn).toFixed(1)} MB/s`);
console.log(`secretlint preset alone, profiler off:          ${mbPerSecond(sliceBytes, presetProfilerOff).toFixed(1)} MB/s (${(presetProfilerOn / presetProfilerOff).toFixed(1)}× faster)`);

const scanner = await createSecretScanner();
await scanner.scan(slice[0]!); // warm-up
let findings = 0;
const start = performance.now();
for (const input of inputs) findings += (await scanner.scan(input)).length;
const elapsed = performance.now() - start;
console.log(`portcullis scanner (preset + own rules + decoded views): ${mbPerSecond(bytes, elapsed).toFixed(1)} MB/s over ${(bytes / 1e6).toFixed(1)} MB, ${findings} findings, one core`);
const sliceStart = performance.now();
for (const input of slice) await scanner.scan(input);
console.log(`portcullis scanner on the ~2 KB inputs of the slice: ${mbPerSecond(sliceBytes, performance.now() - sliceStart).toFixed(1)} MB/s`);
