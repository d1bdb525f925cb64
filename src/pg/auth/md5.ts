/**
 * MD5 password authentication (AuthenticationMD5Password), for upstreams that still use it:
 * https://www.postgresql.org/docs/current/auth-password.html and the message in
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 *
 * The client answers 'md5' + md5(md5(password + user) + salt), the inner digest in hex.
 */
import { createHash } from 'node:crypto';

export function md5PasswordHash(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password, 'utf8').update(user, 'utf8').digest('hex');
  return `md5${createHash('md5').update(inner, 'latin1').update(salt).digest('hex')}`;
}
