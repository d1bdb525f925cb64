/**
 * rules/secretlint.json: the secretlint configuration the engine runs, in secretlint's own format
 * (https://github.com/secretlint/secretlint#configuration), so `npx secretlint --secretlintrc
 * rules/secretlint.json` reads the same file. Only rule modules installed with portcullis can be
 * named: a config cannot load code.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SecretLintCoreConfigRule, SecretLintRuleCreator } from '@secretlint/types';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import { z } from 'zod';
import { PortcullisError } from '../../errors.ts';

export const SECRETLINT_CONFIG_PATH = fileURLToPath(new URL('../../../rules/secretlint.json', import.meta.url));

const ruleEntry = z.object({
  id: z.string().min(1),
  options: z.record(z.string(), z.unknown()).optional(),
  disabled: z.boolean().optional(),
  severity: z.enum(['info', 'warning', 'error']).optional(),
  allowMessageIds: z.array(z.string()).optional(),
});

const configSchema = z.object({
  rules: z.array(ruleEntry.extend({ rules: z.array(ruleEntry).optional() })).min(1),
});

/** The presets a config may name, by their package name. */
const PRESETS: Record<string, { rules: readonly SecretLintRuleCreator[] }> = {
  [recommendedPreset.meta.id]: recommendedPreset,
};

/** One leaf rule ready for `lintSource`, with the preset's per-rule settings applied. */
export type ResolvedRule = SecretLintCoreConfigRule;

export async function loadSecretlintRules(path = SECRETLINT_CONFIG_PATH): Promise<ResolvedRule[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new PortcullisError('CONFIG_INVALID', `cannot read the secretlint rules at ${path}`, {
      hint: 'reinstall portcullis, or restore rules/secretlint.json',
      cause: error,
    });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PortcullisError('CONFIG_INVALID', `${path} is not a secretlint configuration: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data.rules.flatMap((entry) => {
    const preset = PRESETS[entry.id];
    if (!preset) {
      throw new PortcullisError('CONFIG_INVALID', `${path} names ${entry.id}, which portcullis does not ship`, {
        hint: `use ${Object.keys(PRESETS).join(', ')} and configure its rules under "rules"`,
      });
    }
    if (entry.disabled) return [];
    const known = new Set(preset.rules.map((rule) => rule.meta.id));
    for (const child of entry.rules ?? []) {
      if (!known.has(child.id)) throw new PortcullisError('CONFIG_INVALID', `${path}: ${entry.id} has no rule ${child.id}`);
    }
    // Flattened to leaf rules: @secretlint/core ignores `disabled` on a preset's own rules, and leaf
    // rules can be switched on per chunk by keyword (see engine.ts).
    return preset.rules.flatMap((rule): ResolvedRule[] => {
      const settings = entry.rules?.find((child) => child.id === rule.meta.id);
      if (settings?.disabled) return [];
      return [
        {
          id: rule.meta.id,
          rule,
          ...(settings?.options ? { options: settings.options } : {}),
          ...(settings?.severity ? { severity: settings.severity } : {}),
          ...(settings?.allowMessageIds ? { allowMessageIds: settings.allowMessageIds } : {}),
        },
      ];
    });
  });
}
