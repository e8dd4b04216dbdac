import { openDb } from '../store/db.js';
import { TestStore } from '../store/tests.js';

/** The bot's SQLite file, opened for a command-line tool that works beside (or instead of) the bot. */
export function startBotStorage(path: string): { store: TestStore; close: () => void } {
  const db = openDb(path);
  return { store: new TestStore(db), close: () => db.close() };
}
