import type { Command } from '../src/chat/command.js';
import { confirm } from './confirm.js';
import { file } from './file.js';
import { flaky } from './flaky.js';
import { force } from './force.js';
import { help } from './help.js';
import { known } from './known.js';
import { last } from './last.js';
import { mute, snooze, unmute } from './mute.js';
import { notify } from './notify.js';
import { rebuild } from './rebuild.js';
import { report } from './report.js';
import { repro } from './repro.js';
import { similar } from './similar.js';
import { status } from './status.js';
import { stop } from './stop.js';
import { unknown } from './unknown.js';
import { why } from './why.js';
import { workers } from './workers.js';

/** Every chat command, in the order `!help` lists them. */
export const COMMANDS: readonly Command[] = [
  status,
  last,
  why,
  similar,
  flaky,
  report,
  repro,
  file,
  known,
  unknown,
  force,
  confirm,
  stop,
  rebuild,
  notify,
  mute,
  unmute,
  snooze,
  workers,
  help,
];
