import { HttpError, MasterError } from '../errors.js';
import { SessionError } from './session.js';

/**
 * Why a master could not be used, in a few plain words for the operator ("DNS lookup failed",
 * "connection refused", "HTTP 503", "TLS certificate has expired"): the detail behind the log's
 * one line per change of state, `/healthz` and the commands' "unreachable since" notes.
 */
export function masterFailureReason(err: unknown): string {
  const failure = reachFailure(err);
  switch (failure.kind) {
    case 'http': {
      const http = err as HttpError;
      const detail = http.message.split(`${http.url}: `)[1];
      const text = HTTP_TEXT[failure.status];
      const base = `HTTP ${failure.status}${text ? ` ${text}` : ''}`;
      return detail && detail !== 'an empty body' ? `${base}: ${shorten(detail)}` : base;
    }
    case 'not-buildbot':
      return "not Buildbot's API";
    case 'timeout':
      if (failure.code === 'timeout') {
        const ms = Number(/within (\d+) ms/.exec((err as Error).message)?.[1]);
        return `no answer within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`;
      }
      return CODE_TEXT[failure.code] ?? `timed out (${failure.code})`;
    case 'dns':
    case 'refused':
    case 'tls':
    case 'network':
      return (
        CODE_TEXT[failure.code] ?? (failure.kind === 'tls' ? `TLS failed (${failure.code})` : failure.code)
      );
    case 'other': {
      const message = err instanceof Error ? err.message : String(err);
      return shorten(message.replace(/^https?:\/\/\S+ /, ''));
    }
  }
}

/**
 * Whether an error came from talking to the master (REST, its session, its stream), rather than
 * from the bot's own side (its store, a listener): only the former says the master is down.
 */
export function isMasterFailure(err: unknown): boolean {
  return err instanceof HttpError || err instanceof MasterError || err instanceof SessionError;
}

/** Why a request to a master failed, for the fix a person should try. */
export type ReachFailure =
  | { kind: 'dns' | 'refused' | 'timeout' | 'tls' | 'network'; code: string }
  | { kind: 'http'; status: number }
  | { kind: 'not-buildbot' }
  | { kind: 'other' };

/** The kind of a REST client error (MasterError, HttpError), from the cause codes it carries. */
export function reachFailure(err: unknown): ReachFailure {
  if (err instanceof HttpError) return { kind: 'http', status: err.status };
  const code = causeCode(err);
  if (code) {
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', code };
    if (code === 'ECONNREFUSED') return { kind: 'refused', code };
    if (/TIMEOUT|ETIMEDOUT/.test(code)) return { kind: 'timeout', code };
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|SSL|TLS/.test(code)) return { kind: 'tls', code };
    return { kind: 'network', code };
  }
  if (err instanceof MasterError && /did not answer within/.test(err.message))
    return { kind: 'timeout', code: 'timeout' };
  if (err instanceof MasterError && /not JSON|Buildbot's API/.test(err.message))
    return { kind: 'not-buildbot' };
  return { kind: 'other' };
}

/** The deepest `code` in an error's chain of causes (fetch wraps the socket's error twice). */
function causeCode(err: unknown): string | undefined {
  let found: string | undefined;
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('BB_')) found = code;
    e = (e as { cause?: unknown }).cause;
  }
  return found;
}

const CODE_TEXT: Record<string, string> = {
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS certificate issuer unknown',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is for another host name',
  EPROTO: 'TLS handshake failed',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'TLS handshake timed out',
};

const HTTP_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 120 ? `${one.slice(0, 119)}…` : one;
}
