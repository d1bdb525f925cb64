/**
 * Provider credentials recognised by their own published or observed prefixes and lengths. Where
 * a prefix is short or common (`SK`, `key-`, `pat`, `re_`), the boundary, the exact body length and
 * the entropy check keep words and identifiers out. Formats follow each provider's documentation of
 * its key format where there is one, and the public rule sets of secret scanners otherwise.
 */
import { looksLikePlaceholder, shannonEntropy } from '../entropy.ts';
import { PRIORITY, type PatternRule } from './rule.ts';

interface TokenSpec {
  id: string;
  what: string;
  keywords: string[];
  /** Regex source; tried where a keyword starts. */
  source: string;
  /** Capture group holding the secret, or LOOKBEHIND: group 1 (in a lookbehind) to the end of the match. */
  group?: number;
  minEntropy?: number;
  /** The public part of the value when it is longer than the keyword (`sk-ant-api03-`). */
  prefix?: RegExp;
}

const LOOKBEHIND = -1;
/** Not preceded by a letter or digit. */
const B = '(?<![A-Za-z0-9])';
/** Not followed by a character of the token alphabet. */
const E = '(?![A-Za-z0-9])';
const E64 = '(?![A-Za-z0-9_-])';

function tokenRule(spec: TokenSpec): PatternRule {
  const keywords = [...spec.keywords].sort((a, b) => b.length - a.length);
  const prefixOf = (secret: string): string => spec.prefix?.exec(secret)?.[0] ?? keywords.find((k) => secret.startsWith(k)) ?? '';
  return {
    id: spec.id,
    message: `${spec.what}: revoke or rotate it, and load it from a secret store or the environment at run time`,
    keywords: spec.keywords,
    pattern: new RegExp(spec.source),
    ...(spec.group === undefined ? {} : spec.group === LOOKBEHIND ? { secretStartsAtGroup: 1 } : { secretGroup: spec.group }),
    publicPrefix: prefixOf,
    accept: (secret) => {
      const body = secret.slice(prefixOf(secret).length);
      if (looksLikePlaceholder(body)) return false;
      return shannonEntropy(body) >= (spec.minEntropy ?? (body.length <= 20 ? 2.5 : 3));
    },
    priority: PRIORITY.provider,
  };
}

const specs: TokenSpec[] = [
  { id: 'aws-access-key', what: 'AWS access key ID', keywords: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3T'], source: `${B}(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}${E}` },
  { id: 'anthropic-api-key', what: 'Anthropic API key', keywords: ['sk-ant-'], source: `${B}sk-ant-(?:api|admin|oat|sid)\\d{2}-[A-Za-z0-9_-]{80,120}${E64}`, prefix: /^sk-ant-[a-z]+\d{2}-/ },
  { id: 'openai-api-key', what: 'OpenAI API key', keywords: ['sk-proj-', 'sk-svcacct-', 'sk-admin-', 'sk-None-'], source: `${B}sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{40,250}${E64}` },
  { id: 'openai-api-key', what: 'OpenAI API key', keywords: ['sk-'], source: `${B}sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${E}` },
  { id: 'deepseek-api-key', what: 'DeepSeek API key', keywords: ['sk-'], source: `${B}sk-[a-f0-9]{32}${E}` },
  { id: 'huggingface-token', what: 'Hugging Face token', keywords: ['hf_', 'api_org_'], source: `(?<![A-Za-z0-9_])(?:hf|api_org)_[A-Za-z]{34}(?![A-Za-z0-9_])` },
  { id: 'stripe-secret-key', what: 'Stripe secret or restricted key', keywords: ['sk_live_', 'rk_live_', 'sk_test_', 'rk_test_'], source: `${B}[sr]k_(?:live|test)_[A-Za-z0-9]{24,247}${E}` },
  { id: 'slack-token', what: 'Slack token', keywords: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxo-', 'xoxe-', 'xoxe.', 'xapp-'], source: `${B}(?:xox[abposre](?:\\.xox[bp])?|xapp)-(?:[0-9A-Za-z]{1,80}-){2,6}[0-9A-Za-z]{6,80}${E}` },
  { id: 'slack-webhook', what: 'Slack incoming webhook URL', keywords: ['hooks.slack.com/'], source: `hooks\\.slack\\.com/(?:services|workflows|triggers)/(T[A-Z0-9]{6,12}/[A-Z0-9]{6,14}/[A-Za-z0-9]{20,40})${E}`, group: 1 },
  { id: 'google-api-key', what: 'Google API key', keywords: ['AIza'], source: `${B}AIza[0-9A-Za-z_-]{35}${E64}` },
  { id: 'google-oauth-client-secret', what: 'Google OAuth client secret', keywords: ['GOCSPX-'], source: `${B}GOCSPX-[A-Za-z0-9_-]{28}${E64}` },
  { id: 'google-oauth-token', what: 'Google OAuth access token', keywords: ['ya29.'], source: `${B}ya29\\.[0-9A-Za-z_-]{30,2048}${E64}`, minEntropy: 3.5 },
  { id: 'npm-token', what: 'npm access token', keywords: ['npm_'], source: `(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])` },
  { id: 'pypi-token', what: 'PyPI API token', keywords: ['pypi-AgEIcHlwaS5vcmc'], source: `${B}pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}${E64}` },
  { id: 'sendgrid-api-key', what: 'SendGrid API key', keywords: ['SG.'], source: `${B}SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}${E64}` },
  { id: 'twilio-api-key', what: 'Twilio API key', keywords: ['SK'], source: `${B}SK[0-9a-f]{32}${E}` },
  { id: 'mailgun-api-key', what: 'Mailgun API key', keywords: ['key-'], source: `${B}key-[0-9a-f]{32}${E}` },
  { id: 'mailchimp-api-key', what: 'Mailchimp API key', keywords: ['-us'], source: `(?<=${B}([0-9a-f]{32}))-us\\d{1,2}${E}`, group: LOOKBEHIND },
  { id: 'shopify-token', what: 'Shopify access token', keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'], source: `${B}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}${E}` },
  { id: 'digitalocean-token', what: 'DigitalOcean token', keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'], source: `${B}do[por]_v1_[a-f0-9]{64}${E}` },
  { id: 'heroku-api-key', what: 'Heroku API key', keywords: ['HRKU-'], source: `${B}HRKU-AA[A-Za-z0-9_-]{58}${E64}` },
  { id: 'doppler-token', what: 'Doppler token', keywords: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'], source: `${B}dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}${E}` },
  { id: 'databricks-token', what: 'Databricks token', keywords: ['dapi'], source: `${B}dapi[a-f0-9]{32}(?:-\\d)?${E}` },
  { id: 'docker-pat', what: 'Docker Hub access token', keywords: ['dckr_pat_', 'dckr_oat_'], source: `${B}dckr_(?:pat|oat)_[A-Za-z0-9_-]{27}${E64}` },
  { id: 'figma-token', what: 'Figma access token', keywords: ['figd_'], source: `${B}figd_[A-Za-z0-9_-]{40,200}${E64}` },
  { id: 'vercel-token', what: 'Vercel token', keywords: ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_'], source: `${B}vc[pciark]_[A-Za-z0-9]{24,60}${E}` },
  { id: 'vault-token', what: 'HashiCorp Vault token', keywords: ['hvs.', 'hvb.', 'hvr.'], source: `${B}hv[sbr]\\.[A-Za-z0-9_-]{24,300}${E64}` },
  { id: 'terraform-cloud-token', what: 'Terraform Cloud / Enterprise token', keywords: ['.atlasv1.'], source: `(?<=${B}([A-Za-z0-9]{14}))\\.atlasv1\\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_=-])`, group: LOOKBEHIND },
  { id: 'onepassword-token', what: '1Password service account token', keywords: ['ops_eyJ'], source: `${B}ops_eyJ[A-Za-z0-9+/=]{100,1280}(?![A-Za-z0-9+/=])` },
  { id: 'onepassword-secret-key', what: '1Password account secret key', keywords: ['A3-'], source: `${B}A3-[A-Z0-9]{6}-[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}${E}` },
  { id: 'linear-api-key', what: 'Linear API key', keywords: ['lin_api_'], source: `${B}lin_api_[A-Za-z0-9]{40}${E}` },
  { id: 'notion-token', what: 'Notion integration token', keywords: ['ntn_'], source: `${B}ntn_\\d{11}[A-Za-z0-9]{35}${E}` },
  { id: 'notion-token', what: 'Notion integration token', keywords: ['secret_'], source: `(?<![A-Za-z0-9_])secret_[A-Za-z0-9]{43}${E}`, minEntropy: 4 },
  { id: 'groq-api-key', what: 'Groq API key', keywords: ['gsk_'], source: `${B}gsk_[A-Za-z0-9]{52}${E}` },
  { id: 'grafana-token', what: 'Grafana token', keywords: ['glc_'], source: `${B}glc_[A-Za-z0-9+/]{32,400}={0,2}(?![A-Za-z0-9+/=])` },
  { id: 'grafana-token', what: 'Grafana token', keywords: ['glsa_'], source: `${B}glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}${E}` },
  { id: 'cloudflare-api-token', what: 'Cloudflare API token', keywords: ['cfk_', 'cfut_', 'cfat_'], source: `${B}cf(?:k|ut|at)_[A-Za-z0-9]{40}[0-9a-f]{8}${E}` },
  { id: 'cloudflare-origin-ca-key', what: 'Cloudflare Origin CA key', keywords: ['v1.0-'], source: `${B}v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}${E}` },
  { id: 'tailscale-key', what: 'Tailscale key', keywords: ['tskey-'], source: `${B}tskey-[a-z]{2,12}-[0-9A-Za-z]{8,20}-[0-9A-Za-z]{20,60}${E}` },
  { id: 'atlassian-api-token', what: 'Atlassian API token', keywords: ['ATATT3'], source: `${B}ATATT3[A-Za-z0-9_=-]{150,250}(?![A-Za-z0-9_=-])` },
  { id: 'sentry-token', what: 'Sentry auth token', keywords: ['sntrys_eyJ'], source: `${B}sntrys_eyJ[A-Za-z0-9+/=_-]{60,500}(?![A-Za-z0-9+/=_-])` },
  { id: 'sentry-token', what: 'Sentry auth token', keywords: ['sntryu_'], source: `${B}sntryu_[a-f0-9]{64}${E}` },
  { id: 'newrelic-api-key', what: 'New Relic API key', keywords: ['NRAK-'], source: `${B}NRAK-[A-Z0-9]{27}${E}` },
  { id: 'age-secret-key', what: 'age secret key', keywords: ['AGE-SECRET-KEY-1'], source: `${B}AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}${E}` },
  { id: 'pulumi-token', what: 'Pulumi access token', keywords: ['pul-'], source: `${B}pul-[a-f0-9]{40}${E}` },
  { id: 'postman-api-key', what: 'Postman API key', keywords: ['PMAK-'], source: `${B}PMAK-[a-f0-9]{24}-[a-f0-9]{34}${E}` },
  { id: 'planetscale-token', what: 'PlanetScale token or password', keywords: ['pscale_tkn_', 'pscale_pw_', 'pscale_oauth_'], source: `${B}pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}(?![A-Za-z0-9_.-])` },
  { id: 'supabase-token', what: 'Supabase access token or secret key', keywords: ['sbp_'], source: `${B}sbp_[a-f0-9]{40}${E}` },
  { id: 'supabase-token', what: 'Supabase access token or secret key', keywords: ['sb_secret_'], source: `${B}sb_secret_[A-Za-z0-9_-]{31,64}${E64}` },
  { id: 'square-token', what: 'Square access token', keywords: ['EAAA'], source: `${B}EAAA[A-Za-z0-9_-]{60}${E64}` },
  { id: 'square-token', what: 'Square OAuth secret', keywords: ['sq0csp-', 'sq0atp-'], source: `${B}sq0(?:csp|atp)-[A-Za-z0-9_-]{22,43}${E64}` },
  { id: 'shippo-token', what: 'Shippo API token', keywords: ['shippo_live_', 'shippo_test_'], source: `${B}shippo_(?:live|test)_[a-f0-9]{40}${E}` },
  { id: 'flutterwave-secret-key', what: 'Flutterwave secret key', keywords: ['FLWSECK'], source: `${B}FLWSECK(?:_TEST)?-[a-f0-9]{32}-X${E}` },
  { id: 'telegram-bot-token', what: 'Telegram bot token', keywords: [':AA'], source: `(?<=(?<![0-9])([0-9]{8,10})):AA[A-Za-z0-9_-]{33}${E64}`, group: LOOKBEHIND },
  { id: 'discord-webhook', what: 'Discord webhook URL', keywords: ['discord.com/api/webhooks/', 'discordapp.com/api/webhooks/'], source: `discord(?:app)?\\.com/api/webhooks/([0-9]{17,20}/[A-Za-z0-9_-]{60,68})${E64}`, group: 1 },
  { id: 'azure-storage-key', what: 'Azure storage account key', keywords: ['AccountKey='], source: `AccountKey=([A-Za-z0-9+/]{86}==)`, group: 1 },
  { id: 'azure-ad-client-secret', what: 'Azure AD (Entra ID) client secret', keywords: ['Q~'], source: `(?<=(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}[0-9]))Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])`, group: LOOKBEHIND },
  { id: 'firebase-fcm-server-key', what: 'Firebase Cloud Messaging server key', keywords: [':APA91b'], source: `(?<=(?<![A-Za-z0-9_-])(AAAA[A-Za-z0-9_-]{7})):APA91b[A-Za-z0-9_-]{134}${E64}`, group: LOOKBEHIND },
  { id: 'mapbox-secret-token', what: 'Mapbox secret token', keywords: ['sk.eyJ'], source: `${B}sk\\.eyJ[A-Za-z0-9_-]{20,300}\\.[A-Za-z0-9_-]{20,100}${E64}` },
  { id: 'alibaba-access-key', what: 'Alibaba Cloud AccessKey ID', keywords: ['LTAI'], source: `${B}LTAI[A-Za-z0-9]{12,20}${E}` },
  { id: 'dynatrace-token', what: 'Dynatrace API token', keywords: ['dt0c01.'], source: `${B}dt0c01\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}${E}` },
  { id: 'replicate-api-token', what: 'Replicate API token', keywords: ['r8_'], source: `${B}r8_[A-Za-z0-9]{37}${E}` },
  { id: 'perplexity-api-key', what: 'Perplexity API key', keywords: ['pplx-'], source: `${B}pplx-[A-Za-z0-9]{48}${E}` },
  { id: 'xai-api-key', what: 'xAI API key', keywords: ['xai-'], source: `${B}xai-[A-Za-z0-9]{80}${E}` },
  { id: 'langsmith-api-key', what: 'LangSmith API key', keywords: ['lsv2_pt_', 'lsv2_sk_'], source: `${B}lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}${E}` },
  { id: 'netlify-token', what: 'Netlify access token', keywords: ['nfp_'], source: `${B}nfp_[A-Za-z0-9]{36}${E}` },
  { id: 'flyio-token', what: 'Fly.io token', keywords: ['fo1_'], source: `${B}fo1_[A-Za-z0-9_-]{43}${E64}` },
  { id: 'flyio-token', what: 'Fly.io token', keywords: ['FlyV1 fm'], source: `${B}FlyV1 fm[12][ar]?_[A-Za-z0-9+/=,_-]{100,2000}(?![A-Za-z0-9+/=,_-])` },
  { id: 'render-api-key', what: 'Render API key', keywords: ['rnd_'], source: `${B}rnd_[A-Za-z0-9]{32}${E}` },
  { id: 'artifactory-token', what: 'JFrog Artifactory API key', keywords: ['AKCp'], source: `${B}AKCp[A-Za-z0-9]{69}${E}` },
  { id: 'buildkite-token', what: 'Buildkite API token', keywords: ['bkua_'], source: `${B}bkua_[a-f0-9]{40}${E}` },
  { id: 'contentful-token', what: 'Contentful management token', keywords: ['CFPAT-'], source: `${B}CFPAT-[A-Za-z0-9_-]{43}${E64}` },
  { id: 'resend-api-key', what: 'Resend API key', keywords: ['re_'], source: `(?<![A-Za-z0-9_])re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}${E}` },
  { id: 'brevo-api-key', what: 'Brevo (Sendinblue) API key', keywords: ['xkeysib-'], source: `${B}xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}${E}` },
  { id: 'airtable-token', what: 'Airtable personal access token', keywords: ['pat'], source: `${B}pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}${E}` },
  { id: 'portcullis-token', what: 'portcullis token', keywords: ['pcl_agent_', 'pcl_admin_'], source: `${B}pcl_(?:agent|admin)_[A-Za-z0-9_-]{43}${E64}` },
  { id: 'gitlab-token', what: 'GitLab token', keywords: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glft-', 'glsoat-', 'glcbt-', 'gloas-', 'glimt-', 'glagent-'], source: `${B}gl(?:pat|dt|rt|ptt|ft|soat|cbt|oas|imt|agent)-[A-Za-z0-9_-]{20,300}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{9})?${E64}` },
];

export const providerTokenRules: PatternRule[] = specs.map(tokenRule);
