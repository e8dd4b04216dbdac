import type { Command } from '../src/chat/command.js';
import { help } from './help.js';
import { last } from './last.js';
import { status } from './status.js';

/** Every chat command, in the order `!help` lists them. */
export const COMMANDS: readonly Command[] = [status, last, help];
