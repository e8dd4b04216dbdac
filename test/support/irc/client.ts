/**
 * A raw-socket IRC client for tests: what a person in the channel sees. It negotiates IRCv3 caps
 * (account-tag, server-time, message-tags), logs in with SASL PLAIN when asked, joins channels,
 * and records every line the server sends it, parsed, with the time it arrived.
 */
import { connect, type Socket } from 'node:net';

export interface IrcLine {
  /** The line as received, without CR LF. */
  raw: string;
  /** Bytes of the line without its tags, plus CR LF: what IRC's 512-byte limit is about. */
  bytes: number;
  tags: Record<string, string>;
  /** The sender's nick (or the server name). */
  nick: string;
  command: string;
  params: string[];
  /** Date.now() when it arrived. */
  at: number;
}

/** A PRIVMSG or NOTICE as a person sees it. */
export interface ChatLine extends IrcLine {
  target: string;
  text: string;
  /** The sender's services account, from account-tag (undefined when not logged in). */
  account: string | undefined;
}

export interface ClientOptions {
  port: number;
  nick: string;
  sasl?: { account: string; password: string };
  channels?: string[];
  /** Caps to request (default account-tag, server-time, message-tags). */
  caps?: string[];
  timeoutMs?: number;
}

function unescapeTag(value: string): string {
  return value.replace(
    /\\(.)/g,
    (_, c: string) => ({ ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' })[c] ?? c,
  );
}

export function parseLine(raw: string, at = Date.now()): IrcLine {
  let rest = raw;
  const tags: Record<string, string> = {};
  if (rest.startsWith('@')) {
    const sp = rest.indexOf(' ');
    for (const tag of rest.slice(1, sp).split(';')) {
      const eq = tag.indexOf('=');
      if (eq < 0) tags[tag] = '';
      else tags[tag.slice(0, eq)] = unescapeTag(tag.slice(eq + 1));
    }
    rest = rest.slice(sp + 1);
  }
  const bytes = Buffer.byteLength(rest) + 2;
  let prefix = '';
  if (rest.startsWith(':')) {
    const sp = rest.indexOf(' ');
    prefix = rest.slice(1, sp);
    rest = rest.slice(sp + 1);
  }
  const params: string[] = [];
  while (rest.length > 0) {
    if (rest.startsWith(':')) {
      params.push(rest.slice(1));
      break;
    }
    const sp = rest.indexOf(' ');
    if (sp < 0) {
      params.push(rest);
      break;
    }
    params.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1);
  }
  const command = (params.shift() ?? '').toUpperCase();
  return { raw, bytes, tags, nick: prefix.split('!')[0] ?? '', command, params, at };
}

/** IRC formatting codes removed: what a client without colours shows. */
export function plain(text: string): string {
  return text.replace(/\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g, '');
}

export class IrcTestClient {
  readonly lines: IrcLine[] = [];
  nick: string;
  account: string | undefined;
  private socket: Socket | undefined;
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(private readonly opts: ClientOptions) {
    this.nick = opts.nick;
  }

  /** Connects, registers, joins; resolves once in every channel. */
  static async connect(opts: ClientOptions): Promise<IrcTestClient> {
    const client = new IrcTestClient(opts);
    await client.open();
    return client;
  }

  /** PRIVMSG and NOTICE lines received (from index `from` on). */
  chat(from = 0): ChatLine[] {
    return this.lines
      .slice(from)
      .filter((l) => l.command === 'PRIVMSG' || l.command === 'NOTICE')
      .map((l) => ({
        ...l,
        target: l.params[0] ?? '',
        text: l.params[l.params.length - 1] ?? '',
        account: l.tags.account,
      }));
  }

  /** Chat lines from `nick`, from index `from` on. */
  from(nick: string, from = 0): ChatLine[] {
    return this.chat(from).filter((l) => l.nick.toLowerCase() === nick.toLowerCase());
  }

  say(target: string, text: string): void {
    this.send(`PRIVMSG ${target} :${text}`);
  }

  send(line: string): void {
    if (/[\r\n]/.test(line)) throw new Error('a test client line with CR or LF');
    this.socket?.write(`${line}\r\n`);
  }

  /** Waits until `check` returns something truthy, re-checking on every line received. */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check();
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const tail = this.lines
          .slice(-15)
          .map((l) => l.raw)
          .join('\n');
        throw new Error(`${this.nick}: timed out waiting for ${what}\n--- last lines:\n${tail}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first chat line from `nick` at or after `from` whose text (formatting removed) matches. */
  waitFor(nick: string, pattern: RegExp, from = 0, timeoutMs?: number): Promise<ChatLine> {
    return this.until(
      `a line from ${nick} matching ${pattern}`,
      () => this.from(nick, from).find((l) => pattern.test(plain(l.text))),
      timeoutMs,
    );
  }

  async quit(): Promise<void> {
    if (this.closed || !this.socket) return;
    const socket = this.socket;
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.send('QUIT :done');
    socket.end();
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2_000))]);
    socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private open(): Promise<void> {
    const { opts } = this;
    const wanted = opts.caps ?? ['account-tag', 'server-time', 'message-tags'];
    const channels = new Set((opts.channels ?? []).map((c) => c.toLowerCase()));
    const joined = new Set<string>();
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: opts.port });
      this.socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${opts.nick}: not registered and joined within ${opts.timeoutMs ?? 15_000} ms`));
      }, opts.timeoutMs ?? 15_000);
      let wake: NodeJS.Timeout | undefined;
      let ready = false;
      const done = (err?: Error) => {
        if (ready) return;
        ready = true;
        clearTimeout(timer);
        clearInterval(wake);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve();
      };
      const capEnd = () => {
        this.send('CAP END');
        // InspIRCd finishes registrations in its once-a-second tick, which an idle server only
        // runs when woken: a PING just after the next second boundary (a harmless 451) wakes it.
        const ms = 1005 - (Date.now() % 1000);
        setTimeout(() => {
          if (!ready) this.send('PING :wake');
          wake = setInterval(() => !ready && this.send('PING :wake'), 1000);
        }, ms);
      };
      socket.on('connect', () => {
        this.send('CAP LS 302');
        this.send(`NICK ${opts.nick}`);
        this.send(`USER ${opts.nick} 0 * :${opts.nick} (test client)`);
      });
      socket.on('error', (err) => done(err));
      socket.on('close', () => {
        this.closed = true;
        done(new Error(`${opts.nick}: connection closed during registration`));
        this.wake();
      });
      let buffer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const raw = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (raw === '') continue;
          const line = parseLine(raw);
          this.lines.push(line);
          const p = line.params;
          switch (line.command) {
            case 'PING':
              this.send(`PONG :${p[0] ?? ''}`);
              break;
            case 'CAP':
              if (p[1] === 'LS' && p[2] !== '*') {
                const offered = (p[p.length - 1] ?? '').split(' ').map((c) => c.split('=')[0]);
                const req = wanted.filter((c) => offered.includes(c));
                if (opts.sasl) {
                  if (!offered.includes('sasl')) return done(new Error('the server offers no SASL'));
                  req.push('sasl');
                }
                if (req.length > 0) this.send(`CAP REQ :${req.join(' ')}`);
                else capEnd();
              } else if (p[1] === 'ACK') {
                if (opts.sasl) this.send('AUTHENTICATE PLAIN');
                else capEnd();
              } else if (p[1] === 'NAK') {
                capEnd();
              }
              break;
            case 'AUTHENTICATE':
              if (opts.sasl && p[0] === '+') {
                const { account, password } = opts.sasl;
                this.send(
                  `AUTHENTICATE ${Buffer.from(`${account}\0${account}\0${password}`).toString('base64')}`,
                );
              }
              break;
            case '900':
              this.account = p[2];
              break;
            case '903':
              capEnd();
              break;
            case '904':
            case '905':
            case '906':
              done(new Error(`${opts.nick}: SASL failed: ${p[p.length - 1]}`));
              break;
            case '433':
            case '432':
              done(new Error(`${opts.nick}: nick refused: ${p[p.length - 1]}`));
              break;
            case '001':
              this.nick = p[0] ?? this.nick;
              if (channels.size === 0) done();
              else this.send(`JOIN ${[...channels].join(',')}`);
              break;
            case 'JOIN':
              if (line.nick.toLowerCase() === this.nick.toLowerCase()) {
                joined.add((p[0] ?? '').toLowerCase());
                if ([...channels].every((c) => joined.has(c))) done();
              }
              break;
            case '403':
            case '471':
            case '473':
            case '474':
            case '475':
              done(new Error(`${opts.nick}: cannot join: ${p.slice(1).join(' ')}`));
              break;
          }
        }
        this.wake();
      });
    });
  }
}
