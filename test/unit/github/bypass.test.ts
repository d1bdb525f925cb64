import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bypassCheckOutput } from '../../../src/github/bypass.ts';
import { resolveGitHubAppSettings } from '../../../src/github/index.ts';

const bypass = {
  deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  remote: 'github',
  owner: 'acme',
  repo: 'app',
  ref: 'refs/heads/main',
  before: '1'.repeat(40),
  after: '2'.repeat(40),
  pusherLogin: 'Acme-Coder-Bot',
  agent: 'coder',
};

describe('bypass check run', () => {
  it('is titled "pushed around portcullis" and names the agent, its login, the ref and before..after', () => {
    const output = bypassCheckOutput(bypass);
    expect(output.title).toBe('pushed around portcullis');
    for (const text of ['`coder`', '`Acme-Coder-Bot`', '`refs/heads/main`', `\`${bypass.before}\`..\`${bypass.after}\``]) {
      expect(output.summary).toContain(text);
    }
  });
});

describe('github.flagBypass', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const base = { appId: 1, webhookSecret: 's', privateKey };

  it('is off unless set', () => {
    expect(resolveGitHubAppSettings(base, {})?.flagBypass).toBe(false);
    expect(resolveGitHubAppSettings({ ...base, flagBypass: true }, {})?.flagBypass).toBe(true);
  });
});
