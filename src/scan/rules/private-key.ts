/**
 * PEM private keys (RFC 7468), OpenSSH keys (PROTOCOL.key) and armored OpenPGP secret keys, on
 * consecutive lines or escaped onto one (`\n` in JSON, a GCP service-account file, a notebook) or
 * split over string concatenation. secretlint's rule misses EC P-256 keys in SEC1 form (`MHcC…`)
 * and Ed25519 keys in PKCS #8 (`MC4C…`, 64 characters): it wants at least 100 characters starting
 * `MI`. Here the body must decode to DER (a SEQUENCE, 0x30), to `openssh-key-v1\0`, or be a PGP
 * packet stream, and a body cut short (`MIIE…`, `...`) is not a key.
 */
import { looksLikePlaceholder, shannonEntropy } from '../entropy.ts';
import type { Candidate } from '../candidate.ts';
import { PRIORITY } from './rule.ts';

export const PRIVATE_KEY_RULE_ID = 'private-key';
/** A PEM block is searched at most this far past its header: RSA-8192 is about 6.5 KB. */
const MAX_BLOCK_CHARS = 16_384;
const MIN_BODY_WITH_END = 60; // an Ed25519 PKCS #8 key is 64 base64 characters
const MIN_BODY_WITHOUT_END = 400; // without its END line a block must be clearly more than a fragment
/** Real newlines, and `\n` / `\\n` escapes. */
const LINE_BREAK = /\r?\n|\\{1,2}(?:r\\{1,2})?n/;
/** Indentation, comment markers, a concatenation operator and an opening quote before a body line. */
const DECORATION_START = /^\s*(?:(?:\/\/|#|\*|;|>)\s*)?(?:[+,]\s*)?["'`]?/;
/** A closing quote and what may follow it (`" +`, `",`, `");`), or a line continuation; tried on the last characters only. */
const DECORATION_END = /(?:["'`]\s*[+,;)\\]*\s*[+,;)]*|\s+[+,;)\\]*|\\)$/;

/** One line of a PEM body as written in code or config, reduced to its base64 characters. */
export function stripBodyDecorations(raw: string): string {
  const line = raw.trim().replace(DECORATION_START, '');
  const tail = line.slice(-12);
  return line.slice(0, line.length - tail.length) + tail.replace(DECORATION_END, '');
}
const BASE64_LINE = /^[A-Za-z0-9+/=]+$/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

export function findPrivateKeys(text: string): Candidate[] {
  const found: Candidate[] = [];
  let at = text.indexOf('PRIVATE KEY');
  while (at !== -1) {
    const candidate = readBlock(text, at);
    if (candidate) found.push(candidate);
    at = text.indexOf('PRIVATE KEY', at + 11);
  }
  return found;
}

function readBlock(text: string, keywordAt: number): Candidate | undefined {
  const begin = text.lastIndexOf('-----BEGIN', keywordAt);
  if (begin === -1 || keywordAt - begin > 40 || /[\r\n]/.test(text.slice(begin, keywordAt))) return undefined;
  const headerEnd = text.indexOf('-----', keywordAt);
  if (headerEnd === -1 || headerEnd - keywordAt > 20) return undefined;
  const label = text.slice(begin + 10, keywordAt).trim(); // RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP, ''
  const { body, ended } = readBody(text.slice(headerEnd + 5, headerEnd + 5 + MAX_BLOCK_CHARS));
  if (!isKeyBody(body, label, ended)) return undefined;
  const lineEnd = text.slice(begin, begin + 200).search(/[\r\n]/);
  return {
    ruleId: PRIVATE_KEY_RULE_ID,
    message: `${label ? `${label} ` : ''}private key: remove it from the repository, treat the key as compromised and replace it`,
    priority: PRIORITY.provider,
    start: begin,
    end: begin + (lineEnd === -1 ? Math.min(200, text.length - begin) : lineEnd),
    secret: body,
    publicPrefix: '',
  };
}

/** The base64 body after the header: header fields and one blank line skipped, decorations stripped. */
function readBody(block: string): { body: string; ended: boolean } {
  let body = '';
  for (const raw of block.split(LINE_BREAK)) {
    const endAt = raw.indexOf('-----END');
    const piece = stripBodyDecorations(endAt === -1 ? raw : raw.slice(0, endAt));
    if (piece.length > 0) {
      if (body.length === 0 && piece.includes(':')) continue; // Proc-Type:, DEK-Info:, Version:, Comment:
      if (piece.startsWith('=') && body.length > 0) return { body, ended: true }; // the PGP CRC-24 line closes the body
      if (!BASE64_LINE.test(piece)) return { body, ended: false };
      body += piece;
    } else if (body.length > 0 && endAt === -1) {
      return { body, ended: false }; // a blank line inside the body: the block was cut
    }
    if (endAt !== -1) return { body, ended: true };
  }
  return { body, ended: false };
}

function isKeyBody(body: string, label: string, ended: boolean): boolean {
  if (body.length < (ended ? MIN_BODY_WITH_END : MIN_BODY_WITHOUT_END)) return false;
  if (looksLikePlaceholder(body) || shannonEntropy(body) < 4) return false;
  const bytes = Buffer.from(body, 'base64');
  if (label.includes('PGP')) return bytes.length >= 64 && (bytes[0]! & 0x80) !== 0;
  if (bytes.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return true;
  // DER: SEQUENCE, then a definite length (short form, or long form in 1–3 bytes).
  return bytes[0] === 0x30 && (bytes[1]! < 0x80 || (bytes[1]! >= 0x81 && bytes[1]! <= 0x83));
}
