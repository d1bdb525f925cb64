/**
 * @secretlint/core with the preset in rules/secretlint.json, run per chunk of added lines.
 *
 * - The profiler is switched off: @secretlint/profiler marks every rule of every file through
 *   `performance.mark` and keeps every entry, which cost about 10× (secretlint #1633, #1653) and grows
 *   without bound in a long-running gateway. 13.1 has `setEnabled(false)`; on 11.x the singleton's
 *   `mark` is replaced by a no-op, which is all the fix does.
 * - Only the rules whose keywords occur in the chunk are registered (the keyword pass is shared with
 *   our own rules, see keyword-index.ts); a rule we hold no keywords for always runs.
 * - `noPhysicFilePath`: the GCP rule would otherwise read `<path>.p12` from the current directory.
 */
import { lintSource } from '@secretlint/core';
import type { Candidate } from '../candidate.ts';
import { secretLintProfiler } from '@secretlint/profiler';
import { PRIORITY } from '../rules/index.ts';
import { loadSecretlintRules, type ResolvedRule } from './config.ts';
import { mapSecretlintMessage } from './mapping.ts';

/** Keywords that must occur for a rule of the preset to be able to report anything (case-insensitive). */
export const SECRETLINT_KEYWORDS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    aws: ['AKIA', 'ASIA', 'A3T', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'secret', 'account'],
    gcp: ['private_key'],
    privatekey: ['PRIVATE KEY'],
    npm: ['_authToken', 'npm_', 'x-oauth-basic'],
    basicauth: ['://'],
    slack: ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-', 'hooks.slack.com'],
    sendgrid: ['SG.'],
    shopify: ['shppa_', 'shpca_', 'shpat_', 'shpss_'],
    stripe: ['sk_live', 'sk_test', 'rk_live', 'rk_test'],
    github: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    gitlab: ['glpat-'],
    grafana: ['glc_', 'glsa_'],
    openai: ['sk-'],
    anthropic: ['sk-ant-'],
    groq: ['gsk_'],
    huggingface: ['hf_'],
    linear: ['lin_api_'],
    notion: ['ntn_'],
    '1password': ['ops_ey'],
    'database-connection-string': ['mongodb', 'mysql', 'postgres'],
    'hashicorp-vault': ['hvs.', 'hvb.', 'hvr.'],
    vercel: ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_'],
    databricks: ['dapi'],
    docker: ['dckr_pat_'],
    figma: ['figd_'],
    cloudflare: ['cfk_', 'cfut_', 'cfat_'],
    tailscale: ['tskey-'],
    'filter-comments': ['secretlint-'],
  }).map(([short, keywords]) => [`@secretlint/secretlint-rule-${short}`, keywords]),
);

/** secretlint's findings take the same shape as our own rules' candidates. */
export type SecretlintFinding = Candidate;

export interface SecretlintEngine {
  /** Rule ids that run whatever the content (no keywords known for them). */
  readonly alwaysOn: readonly string[];
  lint(content: string, path: string, switchedOn: ReadonlySet<string>): Promise<SecretlintFinding[]>;
}

export function switchProfilerOff(): void {
  const profiler = secretLintProfiler as unknown as { setEnabled?: (enabled: boolean) => void; mark: (marker: unknown) => void };
  if (typeof profiler.setEnabled === 'function') profiler.setEnabled(false);
  else profiler.mark = function markNothing() {};
}

export async function createSecretlintEngine(configPath?: string): Promise<SecretlintEngine> {
  switchProfilerOff();
  const rules = await loadSecretlintRules(configPath);
  const alwaysOn = rules.filter((rule) => !SECRETLINT_KEYWORDS.has(rule.id)).map((rule) => rule.id);
  return {
    alwaysOn,
    async lint(content, path, switchedOn) {
      const active: ResolvedRule[] = rules.filter((rule) => switchedOn.has(rule.id) || !SECRETLINT_KEYWORDS.has(rule.id));
      if (active.length === 0) return [];
      const ext = /\.[^./\\]+$/.exec(path)?.[0].toLowerCase() ?? '';
      const result = await lintSource({
        // A `.p12` is binary and never reaches us as lines; as text it must not send the GCP rule to disk.
        source: { filePath: path, content, contentType: 'text', ext: ext === '.p12' ? '' : ext },
        options: { config: { rules: active }, locale: 'en', maskSecrets: false, noPhysicFilePath: true },
      });
      const found: SecretlintFinding[] = [];
      for (const message of result.messages) {
        const [start, end] = message.range;
        const mapped = mapSecretlintMessage(message.ruleId, message.messageId, content.slice(start, end));
        if (!mapped) continue;
        const at = start + mapped.offset;
        found.push({
          ruleId: mapped.ruleId,
          message: mapped.message,
          priority: PRIORITY.secretlint,
          start: at,
          end: at + Math.min(mapped.secret.length, end - at),
          secret: mapped.secret,
          publicPrefix: mapped.publicPrefix,
        });
      }
      return found;
    },
  };
}
