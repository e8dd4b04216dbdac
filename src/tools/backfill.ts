import { startBotStorage } from './storage.js';
import { masterRest } from '../buildbot/master-rest.js';
import type { Config } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { type BackfillProgress, backfillMaster } from '../logs/backfill.js';
import type { Logger } from '../log.js';

/**
 * `bbwatch backfill --days N`: analyses the past orange, red and purple builds of every configured
 * master into the bot's store (their test logs, and why a build failed outside its tests), within
 * each master's request budget, with a progress bar on a terminal. Interrupted (Ctrl-C), it stops
 * cleanly; run again, it skips what is done.
 */
export async function backfillCommand(config: Config, days: number, log: Logger): Promise<number> {
  const { store, close } = await startBotStorage(config);
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = Boolean(process.stderr.isTTY);
  const draw = (p: BackfillProgress) => {
    if (!tty) return;
    const width = 30;
    const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
    process.stderr.write(
      `\r${p.master} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} builds` +
        ` (${p.skipped} already done, ${p.failed} unreadable)`,
    );
  };
  let code = 0;
  try {
    for (const master of config.masters) {
      const rest = masterRest(master, log);
      const result = await backfillMaster({
        master: master.name,
        rest,
        logs: master.logs,
        store,
        days,
        log,
        onProgress: draw,
        signal: abort.signal,
      });
      if (tty) process.stderr.write('\n');
      const causes = Object.entries(result.causes)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, n]) => `${n} ${kind}`);
      process.stdout.write(
        `${master.name}: ${result.total} orange, red or purple builds in the last ${days} day${days === 1 ? '' : 's'}; analysed ${result.done - result.skipped - result.failed}, ` +
          `already done ${result.skipped}, unreadable ${result.failed}` +
          (causes.length > 0 ? `; failed outside their tests: ${causes.join(', ')}` : '') +
          '\n',
      );
    }
  } catch (err) {
    if (tty) process.stderr.write('\n');
    process.stderr.write(
      abort.signal.aborted
        ? 'bbwatch backfill: interrupted; run it again to go on where it stopped\n'
        : `bbwatch backfill: ${errorMessage(err)}\n`,
    );
    code = abort.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await close();
  }
  return code;
}
