import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Adapter, AdapterServices, IncomingMessage } from '../../src/chat/adapter.js';
import type { Message } from '../../src/chat/render-kit.js';
import { completeLine } from './complete.js';
import { HISTORY_SIZE, historyFile, loadHistory, saveHistory } from './history.js';
import { renderConsole } from './render.js';

type Stream<S> = S & { isTTY?: boolean };

export interface ConsoleAdapterOptions {
  input?: Readable;
  output?: Writable;
  /** ANSI colours; by default when the output is a terminal (src/cli.ts also honours NO_COLOR). */
  colour?: boolean;
  lineLimit?: number;
  /**
   * A prompt, line editing, history and Tab completion; by default when both input and output are
   * terminals. Otherwise (pipes, files) one command per input line and nothing but messages out.
   */
  interactive?: boolean;
  /** Interactive: where commands are kept across runs (default: historyFile()); null: nowhere. */
  historyFile?: string | null;
  /**
   * Interactive: log lines that share the terminal (stderr on the same terminal), printed above
   * the prompt while it is shown so that they never tear the line being typed.
   */
  logs?: { divert(via: ((text: string) => void) | undefined): void };
  /**
   * Interactive: Ctrl-C on an empty line, or Ctrl-D. The terminal is in raw mode, so Ctrl-C no
   * longer raises SIGINT by itself; by default this raises it, and the bot stops as it would have.
   */
  interrupt?: () => void;
}

const PROMPT = 'bbwatch> ';
const WELCOME =
  'Type help for the commands, Tab to complete a name, Up for earlier commands, Ctrl-D to quit.';

/**
 * The local operator's terminal: commands on stdin, every message for `console` on stdout. The
 * operator is the identity `console`. On a terminal it is an interactive tool (a prompt, line
 * editing, history, completion); on pipes it reads lines and prints messages, nothing else.
 */
export class ConsoleAdapter implements Adapter {
  readonly platform = 'console';
  readonly lineLimit: number;
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly colour: boolean;
  private readonly interactive: boolean;
  private rl: Interface | undefined;
  /** Interactive: the prompt is on the screen, and output must go above it. */
  private prompting = false;
  private stopping = false;
  private writing: Promise<void> = Promise.resolve();
  /** Commands are handled one after another, so replies come in the order commands were typed. */
  private handling: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ConsoleAdapterOptions = {}) {
    this.input = opts.input ?? process.stdin;
    this.output = opts.output ?? process.stdout;
    const outTty = Boolean((this.output as Stream<Writable>).isTTY);
    this.colour = opts.colour ?? outTty;
    this.interactive = opts.interactive ?? (outTty && Boolean((this.input as Stream<Readable>).isTTY));
    this.lineLimit = opts.lineLimit ?? 40;
    // A closed pipe on stdout must not bring the bot down.
    this.output.on('error', () => undefined);
  }

  async start(
    onMessage: (message: IncomingMessage) => Promise<void>,
    services: AdapterServices,
  ): Promise<void> {
    const dispatch = (line: string) => {
      if (line.trim() === '') return;
      const message: IncomingMessage = {
        platform: 'console',
        room: 'console',
        sender: { identity: 'console', name: 'console' },
        text: line,
        isDirect: true,
        addressed: true,
      };
      this.handling = this.handling.then(() => onMessage(message)).catch(() => undefined);
    };
    if (!this.interactive) {
      this.rl = createInterface({ input: this.input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
      this.rl.on('line', dispatch);
      return;
    }
    this.startInteractive(dispatch, services);
  }

  private startInteractive(dispatch: (line: string) => void, services: AdapterServices): void {
    const file = this.opts.historyFile === undefined ? historyFile() : (this.opts.historyFile ?? undefined);
    let history: string[] = [];
    if (file) {
      try {
        history = loadHistory(file);
      } catch (err) {
        services.log.warn({ file, err: messageOf(err) }, 'console history not read');
      }
    }
    const rl = createInterface({
      input: this.input,
      output: this.output,
      terminal: true,
      prompt: this.colour ? `\x1b[1m${PROMPT.trimEnd()}\x1b[0m ` : PROMPT,
      history,
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (line: string): [string[], string] => {
        try {
          return completeLine(line, services.commands, services.complete);
        } catch (err) {
          services.log.warn({ err: messageOf(err) }, 'console completion failed');
          return [[], line];
        }
      },
    });
    this.rl = rl;
    let historyWarned = false;
    if (file) {
      rl.on('history', (lines: string[]) => {
        try {
          saveHistory(file, lines);
        } catch (err) {
          if (!historyWarned) services.log.warn({ file, err: messageOf(err) }, 'console history not saved');
          historyWarned = true;
        }
      });
    }
    rl.on('line', (line) => {
      // The next prompt at once: replies, announcements and log lines are printed above it.
      rl.prompt();
      dispatch(line);
    });
    rl.on('SIGINT', () => {
      if (rl.line !== '') {
        // Like a shell: Ctrl-C drops what was typed (to the end of the line, then to its start).
        rl.write(null, { ctrl: true, name: 'e' });
        rl.write(null, { ctrl: true, name: 'u' });
      } else this.interrupt();
    });
    // Ctrl-D on an empty line closes the input: the operator is done.
    rl.on('close', () => {
      if (this.stopping) return;
      this.opts.logs?.divert(undefined);
      if (this.prompting) this.clearPrompt();
      this.prompting = false;
      this.interrupt();
    });
    // A write that fails (the terminal went away) must not become a log line about itself.
    this.opts.logs?.divert((text) => {
      this.print(text).catch(() => undefined);
    });
    // A terminal that goes away (EIO) ends the session as Ctrl-D would.
    this.input.on('error', () => rl.close());
    this.output.write(`${WELCOME}\n`);
    this.prompting = true;
    rl.prompt();
  }

  isConnected(): boolean {
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.opts.logs?.divert(undefined);
    if (this.prompting) {
      this.prompting = false;
      this.clearPrompt();
    }
    this.rl?.close();
    await this.handling;
    await this.writing;
    // Goodbye, after the last announcement: the console's counterpart of an IRC QUIT.
    await new Promise<void>((resolve) => this.output.write('bbwatch stopped.\n', () => resolve()));
  }

  send(_room: string, message: Message): Promise<void> {
    const stamp = message.kind === 'announcement' ? `${new Date().toTimeString().slice(0, 8)} ` : undefined;
    const text = `${renderConsole(message, { colour: this.colour, ...(stamp ? { stamp } : {}) }).join('\n')}\n`;
    // Writes are chained so that messages never interleave and each resolves once written.
    const write = this.writing.then(() => this.print(text));
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Writes whole lines; with the prompt shown, above it, then draws the prompt and what was typed again. */
  private print(text: string): Promise<void> {
    const rl = this.rl;
    if (!this.prompting || !rl) return this.write(text);
    // Erase, print, redraw: corked, the terminal gets it in one write and shows no half-drawn state.
    this.output.cork();
    const { rows } = this.clearPrompt();
    const written = this.write(text);
    // readline redraws from `rows` rows above the cursor (where the cursor was in a typed line that
    // wraps): as many empty lines put that point just below the text printed.
    if (rows > 0) this.output.write('\n'.repeat(rows));
    rl.prompt(true);
    this.output.uncork();
    return written;
  }

  /** Erases the prompt and the typed line (every row it wraps onto) from the screen. */
  private clearPrompt(): { rows: number } {
    const rows = this.rl?.getCursorPos().rows ?? 0;
    moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
    return { rows };
  }

  private write(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.output.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  private interrupt(): void {
    if (this.opts.interrupt) this.opts.interrupt();
    else process.kill(process.pid, 'SIGINT');
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
