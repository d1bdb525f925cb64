import { PgRefusal } from './refusal.ts';

/**
 * Startup parameters are GUCs the server applies before any statement: `options=-c role=admin` or
 * `session_authorization` would change who the agent is with no SQL for the guard to see, and
 * `replication` opens a different protocol. Only these pass; anything else is refused by name.
 */
const SAFE_PARAMETERS = new Set([
  'application_name',
  'client_encoding',
  'datestyle',
  'timezone',
  'intervalstyle',
  'extra_float_digits',
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'bytea_output',
  'geqo',
  'jit',
  'work_mem',
]);

/** Encodings whose text the masking detectors read correctly (ASCII-compatible, UTF-8 decoded). */
const READABLE_ENCODINGS = new Set(['utf8', 'utf-8', 'unicode', 'sql_ascii']);

export interface ClientStartup {
  user: string;
  database: string;
  /** What goes upstream, as the client asked (names as given, values checked). */
  forwarded: Map<string, string>;
}

export function filterStartupParameters(parameters: Map<string, string>): ClientStartup {
  const user = parameters.get('user');
  if (!user) throw new PgRefusal('28000', 'no user name in the startup packet: connect as user=<agent name>', undefined, 'FATAL');
  const database = parameters.get('database') ?? user;
  const forwarded = new Map<string, string>();
  for (const [name, value] of parameters) {
    if (name === 'user' || name === 'database') continue;
    if (name === 'replication') throw refused('replication connections are not allowed through portcullis');
    if (name === 'options') {
      for (const [option, optionValue] of parseOptions(value)) forwarded.set(checked(option, optionValue), optionValue);
      continue;
    }
    // libpq resolves fallback_application_name itself; drivers that send it mean application_name.
    if (name === 'fallback_application_name') {
      if (!parameters.has('application_name')) forwarded.set('application_name', value);
      continue;
    }
    forwarded.set(checked(name, value), value);
  }
  return { user, database, forwarded };
}

function checked(name: string, value: string): string {
  const key = name.toLowerCase();
  if (!SAFE_PARAMETERS.has(key)) {
    throw refused(`startup parameter "${name}" is not allowed through portcullis (allowed: ${[...SAFE_PARAMETERS].join(', ')})`);
  }
  if (key === 'client_encoding' && !READABLE_ENCODINGS.has(value.toLowerCase())) {
    throw new PgRefusal('0A000', `client_encoding ${value} is not supported through portcullis`, 'use client_encoding=UTF8', 'FATAL');
  }
  return key;
}

/** `-c name=value` and `--name=value` items of the `options` parameter; backslash escapes a space. */
function parseOptions(options: string): Array<[string, string]> {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < options.length; i++) {
    const char = options[i]!;
    if (char === '\\' && i + 1 < options.length) word += options[++i];
    else if (char === ' ' || char === '\t') {
      if (word) words.push(word);
      word = '';
    } else word += char;
  }
  if (word) words.push(word);
  const settings: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i++) {
    let setting = words[i]!;
    if (setting === '-c') setting = words[++i] ?? '';
    else if (setting.startsWith('-c')) setting = setting.slice(2);
    else if (setting.startsWith('--')) setting = setting.slice(2);
    else throw refused(`startup option "${setting}" is not allowed through portcullis (only -c name=value settings)`);
    const equals = setting.indexOf('=');
    if (equals <= 0) throw refused(`startup option "${setting}" is not a name=value setting`);
    settings.push([setting.slice(0, equals).replace(/-/g, '_'), setting.slice(equals + 1)]);
  }
  return settings;
}

function refused(message: string): PgRefusal {
  return new PgRefusal('42501', message, 'remove it from the connection string', 'FATAL');
}
