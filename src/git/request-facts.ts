import { gunzipSync, constants as zlib } from 'node:zlib';
import { decodePktLinePrefix, parseReceivePackCommands, parseUploadPackRequest } from './codec/index.ts';
import type { GitEndpoint } from './upstream.ts';

/** How much of a request body is kept for the record: enough for thousands of haves or ref updates. */
export const REQUEST_CAPTURE_BYTES = 256 * 1024;
const MAX_LISTED = 100;

/**
 * What the agent asked for, parsed from the captured start of the request body, for the session
 * record. A body larger than the capture is described as far as it goes (`truncated: true`); a body
 * that does not parse is recorded as such (the upstream server decides what it means).
 */
export function describeRequestBody(
  endpoint: GitEndpoint,
  protocolVersion: number,
  prefix: Buffer,
  contentEncoding: string | string[] | undefined,
): Record<string, unknown> {
  if (prefix.length === 0) return {};
  try {
    const { bytes, truncated } = contentEncoding === 'gzip' ? gunzipPrefix(prefix) : { bytes: prefix, truncated: false };
    const description = endpoint === 'git-receive-pack' ? describePush(bytes) : describeFetch(bytes, protocolVersion === 2 ? 2 : 0);
    // A cut gzip stream can end on a pkt-line boundary (or before any output), so say so here.
    return truncated ? { ...description, truncated: true } : description;
  } catch (error) {
    return { unparsed: error instanceof Error ? error.message : String(error) };
  }
}

function describePush(bytes: Uint8Array): Record<string, unknown> {
  const commands = decodePktLinePrefix(bytes, { stopAfterFlush: true });
  const parsed = parseReceivePackCommands(commands.pkts);
  let pushOptions: string[] = [];
  let optionsTruncated = false;
  if (parsed.capabilities.includes('push-options') && !commands.truncated) {
    const options = decodePktLinePrefix(bytes.subarray(commands.restOffset), { stopAfterFlush: true });
    pushOptions = parseReceivePackCommands([], options.pkts).pushOptions;
    optionsTruncated = options.truncated;
  }
  return {
    refUpdates: parsed.updates.slice(0, 1000),
    refUpdateCount: parsed.updates.length,
    capabilities: parsed.capabilities.filter((c) => !c.startsWith('session-id')),
    pushOptions,
    truncated: commands.truncated || optionsTruncated,
  };
}

function describeFetch(bytes: Uint8Array, protocol: 0 | 2): Record<string, unknown> {
  const decoded = decodePktLinePrefix(bytes, { stopAfterFlush: protocol === 2 });
  const request = parseUploadPackRequest(decoded.pkts, protocol);
  const common = {
    wants: request.wants.slice(0, MAX_LISTED),
    wantCount: request.wants.length,
    haveCount: request.haves.length,
    shallowCount: request.shallows.length,
    deepen: request.deepen,
    filter: request.filter,
    done: request.done,
    truncated: decoded.truncated,
  };
  if (request.protocol === 0) return { ...common, capabilities: request.capabilities };
  return {
    ...common,
    command: request.command,
    wantRefs: request.wantRefs.slice(0, MAX_LISTED),
    refPrefixes: request.refPrefixes.slice(0, MAX_LISTED),
  };
}

/**
 * Partial gzip input is expected here (only the start of the body is captured): a stream that ends
 * early (Z_BUF_ERROR) is inflated as far as it goes and reported as truncated.
 */
function gunzipPrefix(prefix: Buffer): { bytes: Buffer; truncated: boolean } {
  const maxOutputLength = 4 * REQUEST_CAPTURE_BYTES;
  try {
    return { bytes: gunzipSync(prefix, { maxOutputLength }), truncated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') throw error;
    return { bytes: gunzipSync(prefix, { finishFlush: zlib.Z_SYNC_FLUSH, maxOutputLength }), truncated: true };
  }
}
