import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Adapter, AdapterServices, IncomingMessage } from '../../src/chat/adapter.js';
import type { Message } from '../../src/chat/render-kit.js';
import { renderConsole } from './render.js';

export interface ConsoleAdapterOptions {
  input?: Readable;
  output?: Writable;
  /** ANSI colours; by default only when the output is a terminal. */
  colour?: boolean;
  lineLimit?: number;
}

/**
 * The local operator's terminal: one command per line on stdin, every message for `console` on
 * stdout. The operator is the identity `console`.
 */
export class ConsoleAdapter implements Adapter {
  readonly platform = 'console';
  readonly lineLimit: number;
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly colour: boolean;
  private rl: Interface | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Commands are handled one after another, so replies come in the order commands were typed. */
  private handling: Promise<void> = Promise.resolve();

  constructor(opts: ConsoleAdapterOptions = {}) {
    this.input = opts.input ?? process.stdin;
    this.output = opts.output ?? process.stdout;
    this.colour = opts.colour ?? Boolean((this.output as Writable & { isTTY?: boolean }).isTTY);
    this.lineLimit = opts.lineLimit ?? 40;
    // A closed pipe on stdout must not bring the bot down.
    this.output.on('error', () => undefined);
  }

  async start(
    onMessage: (message: IncomingMessage) => Promise<void>,
    _services: AdapterServices,
  ): Promise<void> {
    this.rl = createInterface({ input: this.input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
    this.rl.on('line', (line) => {
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
    });
  }

  isConnected(): boolean {
    return true;
  }

  async stop(): Promise<void> {
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
    const write = this.writing.then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.output.write(text, (err) => (err ? reject(err) : resolve()));
        }),
    );
    this.writing = write.catch(() => undefined);
    return write;
  }
}
