/**
 * The bot's Matrix session: the access token from the configuration, or one obtained by password
 * login and kept in the adapter's state, so that a restart reuses the same device instead of
 * creating a new one each time. Either way the token is checked with /whoami before use.
 */
import { createClient, type MatrixClient, MatrixError } from 'matrix-js-sdk';
import type { Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import type { AdapterServices, KeyValueStore } from '../../src/chat/adapter.js';

export interface Credentials {
  homeserver: string;
  userId: string;
  accessToken?: string;
  password?: string;
  /** The device name a password login creates. */
  deviceName: string;
}

export interface Session {
  accessToken: string;
  deviceId?: string;
}

/** A problem no retry will fix: a wrong token or password, another user's token. */
export class AuthError extends Error {
  override name = 'AuthError';
}

interface SavedSession {
  homeserver: string;
  userId: string;
  accessToken: string;
  deviceId?: string;
}

const KEY = 'session';
const TIMEOUT_MS = 15_000;

export async function openSession(
  creds: Credentials,
  state: KeyValueStore,
  log: AdapterServices['log'],
  logger: SdkLogger,
): Promise<Session> {
  const client = (accessToken?: string) =>
    createClient({ baseUrl: creds.homeserver, accessToken, localTimeoutMs: TIMEOUT_MS, logger });

  if (creds.accessToken !== undefined) {
    const deviceId = await check(client(creds.accessToken), creds.userId, 'the configured access token');
    return { accessToken: creds.accessToken, deviceId };
  }

  const saved = readSaved(state, creds);
  if (saved) {
    try {
      const deviceId = await check(client(saved.accessToken), creds.userId, 'the stored access token');
      return { accessToken: saved.accessToken, deviceId: deviceId ?? saved.deviceId };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      log.info('the stored Matrix access token is no longer valid; logging in again');
    }
  }

  let answer: Awaited<ReturnType<MatrixClient['loginRequest']>>;
  try {
    answer = await client().loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: creds.userId },
      password: creds.password,
      initial_device_display_name: creds.deviceName,
      ...(saved?.deviceId ? { device_id: saved.deviceId } : {}),
    });
  } catch (err) {
    if (err instanceof MatrixError && (err.httpStatus === 403 || err.httpStatus === 401)) {
      throw new AuthError(
        `the homeserver refused the password for ${creds.userId} (${err.errcode ?? err.httpStatus})`,
      );
    }
    throw err;
  }
  if (answer.user_id !== creds.userId) {
    throw new AuthError(`logging in as ${creds.userId} gave a session for ${answer.user_id}`);
  }
  const session: SavedSession = {
    homeserver: creds.homeserver,
    userId: creds.userId,
    accessToken: answer.access_token,
    deviceId: answer.device_id,
  };
  state.set(KEY, JSON.stringify(session));
  log.info({ userId: creds.userId, deviceId: answer.device_id }, 'logged in to the Matrix homeserver');
  return { accessToken: session.accessToken, deviceId: session.deviceId };
}

/** Forgets a stored session the homeserver no longer accepts. */
export function forgetSession(state: KeyValueStore): void {
  state.set(KEY, '');
}

/** The device id, after checking that the token is valid and belongs to `userId`. */
async function check(client: MatrixClient, userId: string, what: string): Promise<string | undefined> {
  try {
    const who = await client.whoami();
    if (who.user_id !== userId) {
      throw new AuthError(`${what} belongs to ${who.user_id}, not to ${userId}`);
    }
    return who.device_id;
  } catch (err) {
    if (
      err instanceof MatrixError &&
      (err.errcode === 'M_UNKNOWN_TOKEN' || err.errcode === 'M_MISSING_TOKEN')
    ) {
      throw new AuthError(`the homeserver does not accept ${what} (${err.errcode})`);
    }
    throw err;
  }
}

function readSaved(state: KeyValueStore, creds: Credentials): SavedSession | undefined {
  const raw = state.get(KEY);
  if (!raw) return undefined;
  try {
    const saved = JSON.parse(raw) as SavedSession;
    // A token for another account or server (the configuration changed) is not used.
    if (saved.homeserver !== creds.homeserver || saved.userId !== creds.userId || !saved.accessToken)
      return undefined;
    return saved;
  } catch {
    return undefined;
  }
}
