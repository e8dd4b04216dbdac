/**
 * AdapterServices for running an adapter inside a test: state in a Map (share it between two
 * adapters to play a restart), the adapter's log lines kept as parsed JSON, with a wait that
 * wakes on every new line, and a count of the times the adapter said it is connected.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { AdapterServices } from '../../../src/chat/adapter.js';

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestServices {
  services: AdapterServices;
  state: Map<string, string>;
  logs: LogRecord[];
  /** Everything logged, as written (to check that no secret appears). */
  raw: string[];
  waitForLog(msg: string | RegExp, match?: Record<string, unknown>, timeoutMs?: number): Promise<LogRecord>;
  /** How many times the adapter told the core it is connected (first time, and after outages). */
  connects(): number;
  /** Resolves once the adapter has said it is connected `count` times. */
  waitForConnects(count: number, timeoutMs?: number): Promise<void>;
}

export function testServices(state = new Map<string, string>()): TestServices {
  const logs: LogRecord[] = [];
  const raw: string[] = [];
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  let connects = 0;
  const log = pino(
    { level: 'trace', base: {} },
    {
      write(line: string) {
        raw.push(line);
        logs.push(JSON.parse(line) as LogRecord);
        changes.emit('line');
      },
    },
  );
  const find = (msg: string | RegExp, match: Record<string, unknown>) =>
    logs.find(
      (l) =>
        (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)) &&
        Object.entries(match).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v)),
    );
  return {
    state,
    logs,
    raw,
    services: {
      state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) },
      log,
      commands: [],
      complete: () => [],
      connected: () => {
        connects++;
        changes.emit('connected');
      },
    },
    connects: () => connects,
    waitForConnects(count, timeoutMs = 30_000) {
      if (connects >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const onConnected = () => {
          if (connects < count) return;
          clearTimeout(timer);
          changes.off('connected', onConnected);
          resolve();
        };
        const timer = setTimeout(() => {
          changes.off('connected', onConnected);
          reject(new Error(`timed out waiting for connect #${count} (have ${connects})`));
        }, timeoutMs);
        changes.on('connected', onConnected);
      });
    },
    waitForLog(msg, match = {}, timeoutMs = 20_000) {
      const found = find(msg, match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const onLine = () => {
          const hit = find(msg, match);
          if (hit) {
            clearTimeout(timer);
            changes.off('line', onLine);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          changes.off('line', onLine);
          reject(
            new Error(
              `timed out waiting for log '${String(msg)}'; last lines:\n${logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        changes.on('line', onLine);
      });
    },
  };
}
