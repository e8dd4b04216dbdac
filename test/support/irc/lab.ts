/**
 * A real IRC network on 127.0.0.1 for integration tests: InspIRCd 3 linked to Anope 2 services
 * (Debian's `inspircd` and `anope`), with NickServ accounts, SASL (PLAIN and EXTERNAL),
 * account-tag and a TLS port. start.sh / stop.sh next to this file do the work (see the comments
 * there); this wrapper picks free ports and a temp dir.
 *
 *   const irc = await startIrcLab({ accounts: ['alice:alicepass'] });
 *   ... 127.0.0.1:irc.port (plain), irc.tlsPort (TLS, trust irc.caFile)
 *   await irc.stop(); await irc.start();   // a server restart; accounts are kept
 *   await irc.close();
 *
 * Set IRC_LAB_KEEP=1 to keep the directory (configs, logs) after close().
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface IrcLabOptions {
  /** NickServ accounts, `name:password` or `name:password:certfp` (SHA-256 hex, for SASL EXTERNAL). */
  accounts?: string[];
  /** InspIRCd's stock flood throttling for clients (default false: the bot's own pacing is measured). */
  fakelag?: boolean;
}

export interface IrcLab {
  host: '127.0.0.1';
  port: number;
  tlsPort: number;
  dir: string;
  /** The server's self-signed certificate: what a client trusts as its CA. */
  caFile: string;
  /** Stops InspIRCd and Anope (Anope saves its database). */
  stop(): Promise<void>;
  /** Starts them again on the same ports, keeping accounts. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const labs = new Set<string>();
let exitHook = false;

function run(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(HERE, script)], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

async function freePort(): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no free port');
  return addr.port;
}

export async function startIrcLab(opts: IrcLabOptions = {}): Promise<IrcLab> {
  const dir = mkdtempSync(join(tmpdir(), 'bbwatch-irc-'));
  // The daemons run as Debian's `irc` user when we are root: it must be able to read the dir.
  chmodSync(dir, 0o755);
  const accounts = opts.accounts ?? ['alice:alicepass', 'mallory:mallorypass', 'bbwatch:botpass'];
  let env: NodeJS.ProcessEnv = {};
  const start = async () => {
    await run('start.sh', env);
  };
  for (let attempt = 1; ; attempt++) {
    const [port, link, tls] = [await freePort(), await freePort(), await freePort()];
    env = {
      ...process.env,
      IRC_LAB_DIR: dir,
      IRC_PORT: String(port),
      IRC_LINK_PORT: String(link),
      IRC_TLS_PORT: String(tls),
      IRC_ACCOUNTS: accounts.join(' '),
      IRC_FAKELAG: opts.fakelag ? 'yes' : 'no',
      IRC_LAB_FRESH: '1',
    };
    try {
      labs.add(dir);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => {
          for (const d of labs) stopSync(d);
        });
      }
      await start();
      env.IRC_LAB_FRESH = '0';
      const lab: IrcLab = {
        host: '127.0.0.1',
        port,
        tlsPort: tls,
        dir,
        caFile: join(dir, 'tls', 'server.pem'),
        stop: async () => {
          await run('stop.sh', env);
        },
        start,
        close: async () => {
          await run('stop.sh', env).catch(() => undefined);
          labs.delete(dir);
          if (process.env.IRC_LAB_KEEP) console.error(`irc lab kept in ${dir}`);
          else rmSync(dir, { recursive: true, force: true });
        },
      };
      return lab;
    } catch (err) {
      if (attempt >= 3 || !/already in use/.test(String(err))) {
        stopSync(dir);
        labs.delete(dir);
        throw err;
      }
    }
  }
}

/** A self-signed client certificate (for SASL EXTERNAL) and its SHA-256 fingerprint as services store it. */
export function makeClientCert(
  dir: string,
  name: string,
): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    {
      stdio: 'ignore',
    },
  );
  const out = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], {
    encoding: 'utf8',
  });
  const fingerprint = out.replace(/^.*=/, '').replace(/:/g, '').trim().toLowerCase();
  return { cert, key, fingerprint };
}

function stopSync(dir: string): void {
  try {
    execFileSync('bash', [join(HERE, 'stop.sh')], {
      env: { ...process.env, IRC_LAB_DIR: dir },
      timeout: 20_000,
    });
  } catch {
    // best effort at exit
  }
}
