import { openStore, type StoreLocation } from '../store/open.js';
import { TestStore } from '../store/tests.js';

/** The bot's store (SQLite file or PostgreSQL), opened for a command-line tool that works beside (or instead of) the bot. */
export async function startBotStorage(
  where: StoreLocation,
): Promise<{ store: TestStore; close: () => Promise<void> }> {
  const db = await openStore(where);
  return { store: new TestStore(db), close: () => db.destroy() };
}
