import { HttpError, MasterError } from '../errors.js';

/**
 * Why a master could not be used, in a few plain words for the operator ("DNS lookup failed",
 * "connection refused", "HTTP 503", "TLS certificate has expired"): the detail behind the log's
 * one line per change of state, `/healthz` and the commands' "unreachable since" notes.
 */
export function masterFailureReason(err: unknown): string {
  if (err instanceof HttpError) {
    const detail = err.message.split(`${err.url}: `)[1];
    const text = HTTP_TEXT[err.status];
    const base = `HTTP ${err.status}${text ? ` ${text}` : ''}`;
    return detail && detail !== 'an empty body' ? `${base}: ${shorten(detail)}` : base;
  }
  const code = errorCode(err);
  if (code) return CODE_TEXT[code] ?? (TLS_CODE.test(code) ? `TLS failed (${code})` : code);
  if (err instanceof MasterError) {
    if (/did not answer within (\d+) ms/.test(err.message)) {
      const ms = Number(/within (\d+) ms/.exec(err.message)?.[1]);
      return `no answer within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`;
    }
    if (/not JSON|did not answer with Buildbot's API/.test(err.message)) return "not Buildbot's API";
  }
  const message = err instanceof Error ? err.message : String(err);
  return shorten(message.replace(/^https?:\/\/\S+ /, ''));
}

/** The system error code under any wrapping (fetch wraps it in `cause`, MasterError once more). */
function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('BB_') && !code.startsWith('BOT_')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
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
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_)/;

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
