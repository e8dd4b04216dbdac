import { writeSync } from 'node:fs';

/** `json`: pino's JSON lines, for machines and files. `pretty`: one readable line per entry. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** The format when none is asked for: readable on a terminal, JSON otherwise (files, journald, tests). */
export function defaultLogFormat(stderrIsTty: boolean): LogFormat {
  return stderrIsTty ? 'pretty' : 'json';
}

/** Whether ANSI colours are wanted on a terminal: not when NO_COLOR is set (https://no-color.org). */
export function colourWanted(isTty: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTty && !env.NO_COLOR;
}

/**
 * Where log lines go: a file descriptor (stderr), or, while something owns the terminal, through
 * it. The interactive console diverts them so that a log line never tears the command being typed:
 * it prints the line above its prompt and draws the prompt again.
 */
export class LogOutput {
  private sink: { write(text: string): unknown } | undefined;
  private via: ((text: string) => void) | undefined;

  constructor(readonly fd = 2) {}

  /**
   * The writer of the file descriptor, made by the logger (src/log.ts) on first use: pino's
   * synchronous destination, which copes with a non-blocking pipe. Not made here, so that the
   * CLI's commands that log nothing (`bbwatch analyze`) do not load pino.
   */
  attach(make: () => { write(text: string): unknown }): void {
    this.sink ??= make();
  }

  /** Sends lines through `via` from now on; undefined: back to the file descriptor. */
  divert(via: ((text: string) => void) | undefined): void {
    this.via = via;
  }

  write(text: string): void {
    if (this.via) this.via(text);
    else if (this.sink) this.sink.write(text);
    else writeSync(this.fd, text);
  }
}
