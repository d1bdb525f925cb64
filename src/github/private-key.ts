import { createPrivateKey } from 'node:crypto';
import { PortcullisError } from '../errors.ts';

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----\s*([\s\S]*?)\s*-----END \1-----/;

/**
 * The app's private key as PEM, from the forms probot accepts in PRIVATE_KEY: the .pem file's text,
 * the same with `\n` escapes (one-line env files), or base64 of it. Checked here, so a broken key
 * stops the start instead of failing the first token request. `where` names the source in errors;
 * the key itself never appears in one.
 */
export function normalizePrivateKey(text: string, where: string): string {
  let pem = text.trim();
  if (!pem.includes('-----BEGIN') && /^[A-Za-z0-9+/=\s]+$/.test(pem)) {
    pem = Buffer.from(pem, 'base64').toString('utf8').trim();
  }
  pem = pem.replace(/\\n/g, '\n');
  const block = PEM_BLOCK.exec(pem);
  if (!block) {
    throw new PortcullisError('CONFIG_INVALID', `${where} is not a PEM private key (no -----BEGIN … PRIVATE KEY----- block)`, {
      hint: "use the .pem file downloaded from the GitHub App's settings page (Private keys → Generate a private key)",
    });
  }
  // A key pasted onto one line lost its line breaks: rebuild the 64-column body PEM parsers expect.
  const body = block[2]!.replace(/\s+/g, '');
  const rebuilt = `-----BEGIN ${block[1]}-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END ${block[1]}-----\n`;
  try {
    createPrivateKey(rebuilt);
  } catch {
    throw new PortcullisError('CONFIG_INVALID', `${where} does not hold a readable private key`, {
      hint: "use the .pem file downloaded from the GitHub App's settings page, unchanged",
    });
  }
  return rebuilt;
}
