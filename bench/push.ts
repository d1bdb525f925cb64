/**
 * `npm run bench:push`: push ~100 MB of new content (mostly source-like text, some binary files) as
 * several commits on top of a small repository, straight to a real `git http-backend` and through
 * `portcullis serve` (secret scan on), alternating, and print the median wall-time ratio, the
 * gateway's peak RSS growth and the scan throughput. Not a test: nothing here asserts a timing.
 *
 * Every push, on either path, goes to a fresh upstream repository seeded with the same small history
 * and creates a new branch there, so each run sends the same commits into the same starting state
 * (on a reused repository later runs would find the objects already there) and no policy holds it.
 *
 *   BENCH_RUNS=5 BENCH_TEXT_MB=70 BENCH_BINARY_MB=30 [BENCH_DATABASE_URL=postgres://…] npm run bench:push
 */
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addedLines, openMirror, type Quarantine } from '../src/git/push/index.ts';
import { createSecretScanner } from '../src/scan/index.ts';
import { startGateway, type RunningGateway } from '../test/helpers/gateway.ts';
import { gitDate, gitOk, runGit } from '../test/helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../test/helpers/git-upstream.ts';
import { makeTempDir } from '../test/helpers/repos.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TEXT_MB = Number(process.env.BENCH_TEXT_MB ?? 70);
const BINARY_MB = Number(process.env.BENCH_BINARY_MB ?? 30);
const COMMITS = 8;
/** Bump when the generator changes, so a stale cache is not mistaken for the new content. */
const SEED = 20240101;
const GENERATOR_VERSION = 1;
const CACHE = path.resolve('.bench', `push-${TEXT_MB}t-${BINARY_MB}b-s${SEED}-v${GENERATOR_VERSION}.git`);
const MANIFEST = path.join(CACHE, 'portcullis-bench.json');
/** The pushed history is refs/heads/push; refs/heads/main is the small history upstream starts with. */
const PUSH_REF = 'refs/heads/push';
const SEED_REF = 'refs/heads/main';
const MB = 1024 * 1024;

interface Manifest {
  textBytes: number;
  textFiles: number;
  binaryBytes: number;
  binaryFiles: number;
  modifiedFiles: number;
  commits: number;
}

// ---------------------------------------------------------------------------------------------
// Deterministic content: source code, config and prose from a word list (no credential-like
// names or high-entropy strings anywhere), binary files from AES-CTR keyed by the seed.

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let r = Math.imul(state ^ (state >>> 15), 1 | state);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'account action active adapter address after agent alert align allow amount anchor append apply ' +
  'archive array asset attach author backup badge balance batch before binary block border branch ' +
  'bridge buffer build bundle button cache calendar cancel canvas capture cart channel chart check ' +
  'child chunk cipher class clear client clock cluster column comment commit compare config connect ' +
  'console context contract convert counter course cursor custom daemon dashboard data date debug ' +
  'default delay delete delta deploy depth detail device dialog digest direct domain draft driver ' +
  'editor element email empty engine entry error event export factor feature field filter finish ' +
  'folder format frame gateway global graph group handler header health height helper history host ' +
  'image import index input invoice issue item job label layout ledger legacy level limit line link ' +
  'list loader local locale logger lookup manager margin market member merge message meta metric ' +
  'mirror mode model module monitor notice number object offset option order origin output owner ' +
  'package page panel parent parser patch payload period pixel player plugin point policy pool ' +
  'portal post preview price print process product profile project prompt proxy query queue quota ' +
  'range reader record region release remote render report request resource result review route ' +
  'rule runner sample schema scope screen search section select sender series server service session ' +
  'shadow signal source space stage state status step storage store stream style summary switch ' +
  'table target task template tenant theme thread ticket timer title toggle topic total trace track ' +
  'update upload usage user value vendor version view visitor volume widget width window worker zone'
).split(' ');

const SENTENCE_WORDS = (
  'the a an of to in for on with by from this that each every when while after before then only ' +
  'also not is are was be can should must will may returns keeps reads writes sends stores checks ' +
  'runs builds moves creates removes updates handles uses needs'
).split(' ');

class TextGen {
  constructor(readonly random: () => number) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  word(): string {
    return this.pick(WORDS);
  }

  camel(parts = this.int(1, 3)): string {
    let out = this.word();
    for (let i = 1; i < parts; i++) {
      const w = this.word();
      out += w[0]!.toUpperCase() + w.slice(1);
    }
    return out;
  }

  pascal(parts = this.int(1, 3)): string {
    const c = this.camel(parts);
    return c[0]!.toUpperCase() + c.slice(1);
  }

  snake(parts = this.int(1, 3)): string {
    return Array.from({ length: parts }, () => this.word()).join('_');
  }

  sentence(minWords = 5, maxWords = 16): string {
    const n = this.int(minWords, maxWords);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(this.random() < 0.35 ? this.pick(SENTENCE_WORDS) : this.word());
    const text = words.join(' ');
    return text[0]!.toUpperCase() + text.slice(1) + '.';
  }

  /** Prose wrapped at `width` columns, as editors leave comments and markdown. */
  wrapped(prefix: string, sentences: number, width = 80): string[] {
    const words = Array.from({ length: sentences }, () => this.sentence()).join(' ').split(' ');
    const lines: string[] = [];
    let line = prefix;
    for (const w of words) {
      if (line.length + w.length + 1 > width && line.length > prefix.length) {
        lines.push(line.trimEnd());
        line = prefix;
      }
      line += w + ' ';
    }
    if (line.trim().length > 0) lines.push(line.trimEnd());
    return lines;
  }

  expression(): string {
    switch (this.int(0, 5)) {
      case 0:
        return `${this.camel()}(${this.camel(1)}, ${this.int(0, 500)})`;
      case 1:
        return `${this.camel(1)}.${this.camel(2)}(${this.camel(1)})`;
      case 2:
        return `'${this.word()}-${this.word()}'`;
      case 3:
        return `${this.camel(1)}.${this.camel(1)} + ${this.int(1, 64)}`;
      case 4:
        return `[${this.camel(1)}, ${this.camel(1)}, ${this.camel(1)}]`;
      default:
        return `${this.camel(1)} ?? ${this.int(0, 9999)}`;
    }
  }

  typescript(targetBytes: number): string {
    const out: string[] = [`/**`, ...this.wrapped(' * ', this.int(1, 3)), ` */`];
    for (let i = this.int(2, 7); i > 0; i--) out.push(`import { ${this.camel()}, ${this.camel()} } from './${this.word()}/${this.word()}.ts';`);
    out.push('');
    let size = out.join('\n').length;
    while (size < targetBytes) {
      const block: string[] = [];
      if (this.random() < 0.3) {
        block.push(`export interface ${this.pascal()} {`);
        for (let i = this.int(2, 9); i > 0; i--) {
          if (this.random() < 0.3) block.push(`  /** ${this.sentence(4, 10)} */`);
          block.push(`  ${this.camel()}${this.random() < 0.2 ? '?' : ''}: ${this.pick(['string', 'number', 'boolean', `${this.pascal()}[]`, `Record<string, ${this.pascal(1)}>`])};`);
        }
        block.push('}');
      } else {
        block.push(...this.wrapped('// ', this.int(1, 2), 100));
        block.push(`export ${this.random() < 0.3 ? 'async ' : ''}function ${this.camel()}(${this.camel(1)}: ${this.pascal()}, ${this.camel(1)} = ${this.int(0, 100)}): ${this.pascal()} {`);
        for (let i = this.int(3, 18); i > 0; i--) {
          const r = this.random();
          if (r < 0.15) {
            block.push(`  if (${this.camel(1)}.${this.camel(1)} > ${this.int(0, 99)}) {`);
            block.push(`    ${this.camel(1)}.${this.camel()}(${this.expression()});`);
            block.push('  }');
          } else if (r < 0.25) {
            block.push(`  for (const ${this.word()} of ${this.camel()}) ${this.camel(1)}.push(${this.expression()});`);
          } else if (r < 0.32) {
            block.push(`  // ${this.sentence(4, 12)}`);
          } else {
            block.push(`  const ${this.camel()} = ${this.expression()};`);
          }
        }
        block.push(`  return ${this.expression()};`);
        block.push('}');
      }
      block.push('');
      const text = block.join('\n');
      out.push(text);
      size += text.length + 1;
    }
    return out.join('\n') + '\n';
  }

  python(targetBytes: number): string {
    const out: string[] = ['"""' + this.sentence() + '"""', ''];
    for (let i = this.int(2, 6); i > 0; i--) out.push(`from ${this.snake(2)} import ${this.snake()}, ${this.pascal()}`);
    out.push('');
    let size = out.join('\n').length;
    while (size < targetBytes) {
      const block: string[] = [''];
      const inClass = this.random() < 0.4;
      const indent = inClass ? '    ' : '';
      if (inClass) block.push(`class ${this.pascal()}(${this.pascal(1)}):`, `    """${this.sentence(4, 12)}"""`, '');
      for (let f = inClass ? this.int(2, 5) : 1; f > 0; f--) {
        block.push(`${indent}def ${this.snake()}(${inClass ? 'self, ' : ''}${this.snake(1)}, ${this.snake(1)}=${this.int(0, 50)}):`);
        block.push(`${indent}    """${this.sentence(4, 12)}"""`);
        for (let i = this.int(2, 12); i > 0; i--) {
          const r = this.random();
          if (r < 0.2) block.push(`${indent}    if ${this.snake(1)} is not None and ${this.snake(1)} > ${this.int(0, 99)}:`, `${indent}        ${this.snake()}.append(${this.snake(1)})`);
          else if (r < 0.3) block.push(`${indent}    # ${this.sentence(4, 12)}`);
          else block.push(`${indent}    ${this.snake()} = ${this.snake(1)}.${this.snake()}(${this.snake(1)}, ${this.int(0, 999)})`);
        }
        block.push(`${indent}    return ${this.snake()}`, '');
      }
      const text = block.join('\n');
      out.push(text);
      size += text.length + 1;
    }
    return out.join('\n') + '\n';
  }

  yaml(targetBytes: number): string {
    const out: string[] = [`# ${this.sentence()}`];
    let size = 0;
    while (size < targetBytes) {
      const block = [`${this.snake(2)}:`];
      for (let i = this.int(2, 8); i > 0; i--) {
        const r = this.random();
        if (r < 0.25) {
          block.push(`  ${this.snake()}:`);
          for (let j = this.int(1, 4); j > 0; j--) block.push(`    - ${this.word()}-${this.word()}`);
        } else if (r < 0.5) block.push(`  ${this.snake()}: ${this.int(0, 65535)}`);
        else if (r < 0.6) block.push(`  ${this.snake()}: ${this.pick(['true', 'false'])}`);
        else if (r < 0.7) block.push(`  # ${this.sentence(4, 10)}`);
        else block.push(`  ${this.snake()}: ${this.word()}.${this.word()}.internal:${this.int(1024, 9999)}`);
      }
      const text = block.join('\n');
      out.push(text);
      size += text.length + 1;
    }
    return out.join('\n') + '\n';
  }

  json(targetBytes: number): string {
    const items: string[] = [];
    let size = 0;
    while (size < targetBytes) {
      const fields = Array.from({ length: this.int(3, 7) }, () => {
        const r = this.random();
        const value = r < 0.4 ? `"${this.word()} ${this.word()}"` : r < 0.7 ? String(this.int(0, 100000)) : r < 0.85 ? this.pick(['true', 'false', 'null']) : `["${this.word()}", "${this.word()}"]`;
        return `    "${this.camel()}": ${value}`;
      });
      const text = `  {\n${fields.join(',\n')}\n  }`;
      items.push(text);
      size += text.length + 2;
    }
    return `[\n${items.join(',\n')}\n]\n`;
  }

  markdown(targetBytes: number): string {
    const out: string[] = [`# ${this.pascal(2)} ${this.word()}`, ''];
    let size = 0;
    while (size < targetBytes) {
      const block: string[] = [];
      const r = this.random();
      if (r < 0.15) block.push(`## ${this.sentence(2, 6).slice(0, -1)}`, '');
      else if (r < 0.3) {
        for (let i = this.int(2, 6); i > 0; i--) block.push(`- ${this.sentence(3, 12)}`);
        block.push('');
      } else if (r < 0.4) {
        block.push('```sh', `npx ${this.word()} ${this.word()} --${this.word()} ${this.word()}`, '```', '');
      } else if (r < 0.45) {
        block.push(`| ${this.word()} | ${this.word()} | ${this.word()} |`, '| --- | --- | --- |');
        for (let i = this.int(2, 6); i > 0; i--) block.push(`| ${this.word()} | ${this.int(0, 999)} | ${this.sentence(2, 6)} |`);
        block.push('');
      } else block.push(...this.wrapped('', this.int(2, 6)), '');
      const text = block.join('\n');
      out.push(text);
      size += text.length + 1;
    }
    return out.join('\n') + '\n';
  }

  /** A bundled or generated asset: few lines of 500–4000 characters. */
  minified(targetBytes: number): string {
    const lines: string[] = [];
    let size = 0;
    while (size < targetBytes) {
      const target = this.int(500, 4000);
      let line = '';
      while (line.length < target) line += `${this.camel(1)}.${this.camel(2)}(${this.expression()});`;
      lines.push(line);
      size += line.length + 1;
    }
    return lines.join('\n') + '\n';
  }
}

type TextKind = 'ts' | 'py' | 'yaml' | 'json' | 'md' | 'min';

/** Weighted by bytes: code dominates, as in a typical application repository. */
const TEXT_KINDS: Array<{ kind: TextKind; weight: number; dir: string; ext: string }> = [
  { kind: 'ts', weight: 40, dir: 'src', ext: 'ts' },
  { kind: 'py', weight: 20, dir: 'tools', ext: 'py' },
  { kind: 'md', weight: 14, dir: 'docs', ext: 'md' },
  { kind: 'yaml', weight: 10, dir: 'config', ext: 'yaml' },
  { kind: 'json', weight: 12, dir: 'fixtures', ext: 'json' },
  { kind: 'min', weight: 4, dir: 'public/vendor', ext: 'min.js' },
];

function textFor(gen: TextGen, kind: TextKind, bytes: number): string {
  switch (kind) {
    case 'ts':
      return gen.typescript(bytes);
    case 'py':
      return gen.python(bytes);
    case 'yaml':
      return gen.yaml(bytes);
    case 'json':
      return gen.json(bytes);
    case 'md':
      return gen.markdown(bytes);
    case 'min':
      return gen.minified(bytes);
  }
}

/** Incompressible, deterministic bytes: AES-256-CTR over zeros, keyed by the seed and file number. */
function binaryBytes(index: number, size: number): Buffer {
  const key = createHash('sha256').update(`portcullis-bench-push-${SEED}-${index}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

const BINARY_KINDS: Array<{ dir: string; ext: string; magic: Buffer }> = [
  { dir: 'assets/images', ext: 'png', magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { dir: 'assets/fonts', ext: 'woff2', magic: Buffer.from([0x77, 0x4f, 0x46, 0x32, 0x00, 0x01, 0x00, 0x00]) },
  { dir: 'lib', ext: 'jar', magic: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x08, 0x00]) },
  { dir: 'models', ext: 'bin', magic: Buffer.from([0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]) },
];

async function commitAll(dir: string, message: string, offsetSeconds: number): Promise<void> {
  await gitOk(['add', '-A'], { cwd: dir });
  const date = gitDate(offsetSeconds);
  await gitOk(['commit', '-q', '-m', message], { cwd: dir, env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
}

async function buildPushRepo(): Promise<Manifest> {
  if (existsSync(MANIFEST)) return JSON.parse(await readFile(MANIFEST, 'utf8')) as Manifest;
  console.error(`generating a push of ${TEXT_MB} MB text + ${BINARY_MB} MB binary in ${CACHE} (cached for later runs)…`);
  const work = await makeTempDir('bench-push-work');
  const dir = work.path;
  await gitOk(['init', '-q'], { cwd: dir });
  const write = async (rel: string, content: string | Buffer) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  };

  // The small history upstream already has: a handful of files in three commits.
  const seedGen = new TextGen(mulberry32(SEED));
  await write('README.md', seedGen.markdown(3000));
  await write('package.json', `{\n  "name": "bench-app",\n  "version": "1.0.0",\n  "private": true\n}\n`);
  await commitAll(dir, 'initial commit', 0);
  for (const kind of TEXT_KINDS.filter((k) => k.kind !== 'min')) {
    await write(`${kind.dir}/base/${seedGen.word()}-${kind.kind}.${kind.ext}`, textFor(seedGen, kind.kind, seedGen.int(2000, 8000)));
  }
  await commitAll(dir, 'add the base modules', 60);
  await write('docs/CHANGELOG.md', seedGen.markdown(2000));
  await commitAll(dir, 'start a changelog', 120);

  // The push: COMMITS commits on branch `push`, each with its share of new text and binary files,
  // and (after the first) more lines added to files of earlier commits.
  await gitOk(['checkout', '-q', '-b', 'push'], { cwd: dir });
  const gen = new TextGen(mulberry32(SEED + 1));
  const manifest: Manifest = { textBytes: 0, textFiles: 0, binaryBytes: 0, binaryFiles: 0, modifiedFiles: 0, commits: COMMITS };
  const totalWeight = TEXT_KINDS.reduce((sum, k) => sum + k.weight, 0);
  const written: Array<{ rel: string; kind: TextKind }> = [];
  let fileNo = 0;
  for (let c = 0; c < COMMITS; c++) {
    const textGoal = ((c + 1) * TEXT_MB * MB) / COMMITS;
    const binaryGoal = ((c + 1) * BINARY_MB * MB) / COMMITS;
    if (c > 0) {
      for (let i = gen.int(10, 25); i > 0; i--) {
        const target = gen.pick(written);
        if (target.kind === 'json') continue; // appending would make it invalid JSON; realism only
        const extra = textFor(gen, target.kind, gen.int(1000, 12000));
        await appendFile(path.join(dir, target.rel), extra);
        manifest.textBytes += extra.length;
        manifest.modifiedFiles++;
      }
    }
    while (manifest.textBytes < textGoal) {
      let pickAt = gen.int(1, totalWeight);
      const kind = TEXT_KINDS.find((k) => (pickAt -= k.weight) <= 0)!;
      // Log-uniform-ish sizes between 1 KB and 160 KB: many small files, some large ones.
      const size = Math.round(1024 * Math.exp(gen.random() * Math.log(160)));
      const rel = `${kind.dir}/${gen.word()}/${gen.snake(2)}-${fileNo++}.${kind.ext}`;
      const content = textFor(gen, kind.kind, size);
      await write(rel, content);
      written.push({ rel, kind: kind.kind });
      manifest.textBytes += content.length;
      manifest.textFiles++;
    }
    while (manifest.binaryBytes < binaryGoal) {
      const kind = gen.pick(BINARY_KINDS);
      const size = gen.int(256 * 1024, 2560 * 1024);
      const content = Buffer.concat([kind.magic, binaryBytes(fileNo, size - kind.magic.length)]);
      await write(`${kind.dir}/${gen.word()}-${fileNo++}.${kind.ext}`, content);
      manifest.binaryBytes += content.length;
      manifest.binaryFiles++;
    }
    await commitAll(dir, `${gen.sentence(3, 8).slice(0, -1)} (${c + 1}/${COMMITS})`, 3600 + c * 60);
    process.stderr.write(`  commit ${c + 1}/${COMMITS}: ${(manifest.textBytes / MB).toFixed(1)} MB text, ${(manifest.binaryBytes / MB).toFixed(1)} MB binary so far\n`);
  }

  await rm(CACHE, { recursive: true, force: true });
  await gitOk(['clone', '-q', '--bare', dir, CACHE]);
  await gitOk(['--git-dir', CACHE, 'repack', '-a', '-d', '-q']);
  await writeFile(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  await work.cleanup();
  return manifest;
}

// ---------------------------------------------------------------------------------------------
// Measuring

async function revParse(gitDir: string, rev: string): Promise<string> {
  return (await gitOk(['--git-dir', gitDir, 'rev-parse', '--verify', rev])).stdout.trim();
}

/** A fresh upstream repository holding only the small seed history on main. */
async function freshUpstreamRepo(upstream: GitUpstream, name: string): Promise<string> {
  const bare = await upstream.createBareRepo('bench', name);
  await gitOk(['--git-dir', CACHE, 'push', '-q', bare, `${SEED_REF}:${SEED_REF}`]);
  return bare;
}

async function timePush(url: string, branch: string): Promise<number> {
  const start = performance.now();
  const result = await runGit(['--git-dir', CACHE, 'push', '-q', '--no-verify', url, `${PUSH_REF}:refs/heads/${branch}`]);
  const elapsed = performance.now() - start;
  if (result.code !== 0) throw new Error(`git push to ${url.replace(/\/\/[^@/]*@/, '//***@')} failed (${result.code}):\n${result.stderr}`);
  return elapsed;
}

async function memoryOf(pid: number): Promise<{ rssKb: number; peakKb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** The current RSS of every process below `pid` (the gateway's git children), summed. */
async function descendantsRssKb(pid: number): Promise<number> {
  let total = 0;
  const children: number[] = [];
  try {
    for (const task of await readdir(`/proc/${pid}/task`)) {
      const list = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      children.push(...list.split(' ').filter(Boolean).map(Number));
    }
  } catch {
    return 0; // exited meanwhile
  }
  for (const child of children) {
    const status = await readFile(`/proc/${child}/status`, 'utf8').catch(() => '');
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) + (await descendantsRssKb(child));
  }
  return total;
}

/** Samples the children's summed RSS every 50 ms until stopped; resolves with the highest seen. */
function sampleChildren(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await descendantsRssKb(pid));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

interface PushRecord {
  durationMs: number;
  packBytes: number;
  scannedBytes: number;
  scannedCommits: number;
  skippedCount: number;
}

/** What the gateway recorded about the push to `repo`: the receive-pack request's scan details. */
async function pushRecord(gateway: RunningGateway, repo: string): Promise<PushRecord | undefined> {
  const listed = await gateway.cli(['sessions', 'list', '--json', '--repo', `local/bench/${repo}`]);
  if (listed.code !== 0) return undefined;
  const sessions = JSON.parse(listed.stdout) as Array<{ id: string; operation: string }>;
  const session = sessions.find((s) => s.operation === 'push');
  if (!session) return undefined;
  const shown = await gateway.cli(['sessions', 'show', session.id, '--json']);
  if (shown.code !== 0) return undefined;
  const { requests } = JSON.parse(shown.stdout) as { requests: Array<{ durationMs: number; details: Record<string, unknown> }> };
  for (const request of requests) {
    const scan = request.details.scan as { scannedBytes?: number; commits?: number; skippedCount?: number } | undefined;
    if (typeof scan?.scannedBytes === 'number') {
      return { durationMs: request.durationMs, packBytes: Number(request.details.packBytes ?? 0), scannedBytes: scan.scannedBytes, scannedCommits: scan.commits ?? 0, skippedCount: scan.skippedCount ?? 0 };
    }
  }
  return undefined;
}

/**
 * The scanner alone, in this process (one thread), over exactly the added lines the gateway scans:
 * `git diff-tree` output is read first, so its time is not counted as scanning.
 */
async function measureScanner(): Promise<{ bytes: number; files: number; skipped: number; findings: number; scanMs: number; totalMs: number }> {
  const scanner = await createSecretScanner({});
  const commits = (await gitOk(['--git-dir', CACHE, 'rev-list', '--reverse', `${SEED_REF}..${PUSH_REF}`])).stdout.split('\n').filter(Boolean);
  const noQuarantine: Quarantine = { id: 'bench', objectDir: path.join(CACHE, 'objects'), env: {}, remove: async () => undefined };
  const result = { bytes: 0, files: 0, skipped: 0, findings: 0, scanMs: 0, totalMs: 0 };
  const start = performance.now();
  for await (const file of addedLines(openMirror(CACHE), noQuarantine, commits)) {
    if ('skipped' in file) {
      result.skipped++;
      continue;
    }
    for (const line of file.lines) result.bytes += line.text.length + 1;
    result.files++;
    const t0 = performance.now();
    result.findings += (await scanner.scan({ path: file.path, lines: file.lines })).length;
    result.scanMs += performance.now() - t0;
  }
  result.totalMs = performance.now() - start;
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function goal(met: boolean, text: string): string {
  return `(goal ${text}: ${met ? 'met' : 'NOT met'})`;
}

const manifest = await buildPushRepo();
const pushTip = await revParse(CACHE, PUSH_REF);
const upstream = await startGitUpstream();
// BENCH_DATABASE_URL runs the gateway on PostgreSQL (production shape) instead of embedded PGlite.
const storeEnv: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
const gateway = await startGateway({ config: { remotes: [{ name: 'local', url: upstream.url }] }, env: storeEnv });
try {
  const token = await gateway.addAgent('bench', { write: ['local/bench/*'] });
  const directUrl = (repo: string) => `${upstream.url}/bench/${repo}.git`;
  const gatewayUrl = (repo: string) => `${gateway.url.replace('http://', `http://bench:${token}@`)}/git/local/bench/${repo}.git`;

  /** One push into a fresh upstream repository; checks the branch landed, then frees the disk. */
  async function run(label: string, via: 'direct' | 'gateway'): Promise<number> {
    const repo = `${label}-${via}`;
    const bare = await freshUpstreamRepo(upstream, repo);
    const branch = `bench/${label}`;
    const ms = await timePush(via === 'direct' ? directUrl(repo) : gatewayUrl(repo), branch);
    const landed = await revParse(bare, `refs/heads/${branch}`);
    if (landed !== pushTip) throw new Error(`${via} push of run ${label} left ${branch} at ${landed}, expected ${pushTip}`);
    await rm(bare, { recursive: true, force: true });
    return ms;
  }

  // The idle gateway's memory, then the first push's peak: unlike a clone, the first push grows
  // the process for good (scanner, store), so judging growth only after a warm-up would hide it.
  const idle = await memoryOf(gateway.pid);
  await writeFile(`/proc/${gateway.pid}/clear_refs`, '5');
  await run('warm', 'gateway'); // warm both paths (page cache, keep-alive, JIT)
  const firstPush = await memoryOf(gateway.pid);
  await run('warm', 'direct');
  const before = await memoryOf(gateway.pid);
  // Reset the kernel's high-water mark so the peak covers the pushes only, not start-up.
  await writeFile(`/proc/${gateway.pid}/clear_refs`, '5');
  const times = { direct: [] as number[], gateway: [] as number[] };
  const records: PushRecord[] = [];
  let childrenPeakKb = 0;
  for (let i = 1; i <= RUNS; i++) {
    times.direct.push(await run(`r${i}`, 'direct'));
    const sampler = sampleChildren(gateway.pid);
    times.gateway.push(await run(`r${i}`, 'gateway'));
    childrenPeakKb = Math.max(childrenPeakKb, await sampler.stop());
    const record = await pushRecord(gateway, `r${i}-gateway`);
    if (record) records.push(record);
    console.error(
      `run ${i}/${RUNS}: direct ${times.direct.at(-1)!.toFixed(0)} ms, gateway ${times.gateway.at(-1)!.toFixed(0)} ms` +
        (record ? ` (receive-pack ${record.durationMs} ms, scanned ${(record.scannedBytes / MB).toFixed(1)} MB)` : ''),
    );
  }
  const after = await memoryOf(gateway.pid);
  const ratio = median(times.gateway) / median(times.direct);
  const growthMb = (Math.max(firstPush.peakKb, after.peakKb) - idle.rssKb) / 1024;

  console.error('measuring the scanner alone on the same added lines…');
  const scan = await measureScanner();
  const scanMbps = scan.bytes / MB / (scan.scanMs / 1000);

  console.log(`push content           ${(manifest.textBytes / MB).toFixed(1)} MB text in ${manifest.textFiles} new + ${manifest.modifiedFiles} appended-to files, ${(manifest.binaryBytes / MB).toFixed(1)} MB binary in ${manifest.binaryFiles} files, ${manifest.commits} commits`);
  const packBytes = records.at(-1)?.packBytes;
  console.log(`pack size              ${packBytes ? `${(packBytes / MB).toFixed(1)} MB (as the gateway spooled it)` : 'unknown'}`);
  console.log(`runs                   ${RUNS} each, alternating, each into a fresh upstream repository`);
  console.log(`gateway store          ${storeEnv.DATABASE_URL ? 'postgresql' : 'pglite (embedded)'}`);
  console.log(`median direct push     ${median(times.direct).toFixed(0)} ms`);
  console.log(`median gateway push    ${median(times.gateway).toFixed(0)} ms`);
  console.log(`ratio gateway/direct   ${ratio.toFixed(3)} ${goal(ratio <= 1.5, '≤ 1.5')}`);
  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  console.log(`gateway RSS            ${mb(idle.rssKb)} idle, peak ${mb(firstPush.peakKb)} in the first push; ${mb(before.rssKb)} before the measured pushes, peak ${mb(after.peakKb)} in them`);
  console.log(`gateway RSS growth     ${growthMb.toFixed(0)} MB over idle (highest peak) ${goal(growthMb < 150, '< 150 MB')}; ${((after.peakKb - before.rssKb) / 1024).toFixed(0)} MB during the measured pushes alone`);
  console.log(`gateway git children   peak ${(childrenPeakKb / 1024).toFixed(0)} MB RSS summed (sampled every 50 ms; index-pack, diff-tree, …)`);
  if (records.length > 0) {
    const last = records.at(-1)!;
    console.log(`gateway scan record    ${(last.scannedBytes / MB).toFixed(1)} MB of added text scanned over ${last.scannedCommits} commits, ${last.skippedCount} files skipped (binary/too large); receive-pack median ${median(records.map((r) => r.durationMs)).toFixed(0)} ms`);
  } else {
    console.log('gateway scan record    not found in the session records');
  }
  console.log(`scan throughput        ${scanMbps.toFixed(1)} MB/s of added text, scanner alone on one thread ${goal(scanMbps >= 20, '≥ 20 MB/s')}`);
  console.log(`                       ${(scan.bytes / MB).toFixed(1)} MB in ${scan.files} files (${scan.skipped} skipped) in ${(scan.scanMs / 1000).toFixed(2)} s; with git diff-tree ${(scan.bytes / MB / (scan.totalMs / 1000)).toFixed(1)} MB/s; ${scan.findings} findings (expected 0)`);
} finally {
  await gateway.stop();
  await upstream.close();
}
