import type { ServerResponse } from 'node:http';
import type { PortcullisError } from '../errors.ts';

/**
 * git prints a text/plain error body to the user as `remote: ...` lines (http.c show_http_message),
 * so refusals are plain sentences: what happened, then what to do.
 */
export function sendGitError(outgoing: ServerResponse, error: PortcullisError): void {
  if (outgoing.headersSent) {
    outgoing.destroy();
    return;
  }
  const body = `${error.userMessage}\n${error.hint ? `hint: ${error.hint}\n` : ''}`;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-portcullis-error': error.code,
  };
  if (error.httpStatus === 401) headers['www-authenticate'] = 'Basic realm="portcullis"';
  outgoing.writeHead(error.httpStatus, headers);
  outgoing.end(body);
}
