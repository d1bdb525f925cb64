/** `portcullis scan PATH...` as a pre-commit hook runs it: the real CLI over files in a temp dir (no git). */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SarifLog } from '../../../src/scan/index.ts';
import { fakeGitHubToken } from '../../fixtures/secrets/providers.ts';
import { createRng } from '../../fixtures/secrets/random.ts';

const BIN = fileURLToPath(new URL('../../../bin/portcullis.js', import.meta.url));

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
const token = fakeGitHubToken(createRng(3));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pcl-scan-cli-'));
  await mkdir(path.join(dir, 'repo/src'), { recursive: true });
  await mkdir(path.join(dir, 'repo/node_modules/dep'), { recursive: true });
  await mkdir(path.join(dir, 'repo/.git'), { recursive: true });
  await mkdir(path.join(dir, 'clean'), { recursive: true });
  await writeFile(path.join(dir, 'repo/src/app.ts'), `// FAKE test credential\nexport const token = '${token}';\n`);
  await writeFile(path.join(dir, 'repo/node_modules/dep/index.js'), `module.exports = '${token}';\n`);
  await writeFile(path.join(dir, 'repo/.git/config'), `token = ${token}\n`);
  await writeFile(path.join(dir, 'repo/logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]));
  await symlink('src/app.ts', path.join(dir, 'repo/link.ts'));
  await writeFile(path.join(dir, 'clean/readme.md'), 'nothing to see\n');
}, 30_000);

describe('portcullis scan', () => {
  it('exits 1 and prints path:line rule preview, saying what it skipped and why', async () => {
    const { code, stdout, stderr } = await run(['scan', 'repo'], dir);
    expect(code).toBe(1);
    expect(stdout).toContain(`repo/src/app.ts:2:23  github-token  ${token.slice(0, 8)}…[redacted 36 chars]`);
    expect(stdout).not.toContain(token);
    expect(stdout).toContain('1 secret found in 1 file scanned');
    expect(stderr).toMatch(/skipped repo\/\.git\/ \(directory excluded\)/);
    expect(stderr).toMatch(/skipped repo\/node_modules\/ \(directory excluded\)/);
    expect(stderr).toMatch(/skipped repo\/logo\.png \(binary\)/);
    expect(stderr).toMatch(/skipped repo\/link\.ts \(symbolic link\)/);
  }, 30_000);

  it('exits 0 on clean input', async () => {
    const { code, stdout } = await run(['scan', 'clean'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('no secrets found in 1 file');
  }, 30_000);

  it('prints SARIF 2.1.0 with --format sarif', async () => {
    const { code, stdout } = await run(['scan', '--format', 'sarif', 'repo/src'], dir);
    expect(code).toBe(1);
    const log = JSON.parse(stdout) as SarifLog;
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('repo/src/app.ts');
  }, 30_000);

  it.each([[[]], [['--range', 'main..HEAD', 'repo']], [['--format', 'xml', 'repo']], [['--range', 'not-a-range']], [['no-such-dir']]])(
    'exits 2 on a usage error: scan %j',
    async (args) => {
      expect((await run(['scan', ...args], dir)).code).toBe(2);
    },
    30_000,
  );
});
