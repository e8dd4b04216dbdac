/**
 * A TCP proxy on 127.0.0.1 in front of a real server, which a test can cut: `block()` drops every
 * open connection and refuses new ones until `unblock()`. It makes "the network was away while X
 * happened" deterministic. `swallow()` makes what clients write vanish on the way (the server
 * never reads it) until the next `block()`: the lines a client wrote just before a connection died.
 * `pause()` stalls every connection, open or new, without closing any: nothing is read on either
 * side, so nothing crosses, a close included (the peer's kernel still acknowledges, as a stalled
 * network path or a frozen host's would not, but the bytes go nowhere), until `resume()` lets
 * through what waited.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Proxy {
  url: string;
  port: number;
  block(): void;
  unblock(): void;
  swallow(): void;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const open = new Set<Socket>();
  let blocked = false;
  let swallowing = false;
  let paused = false;
  /** Each connection's two sockets, for pause() and resume(). */
  const pairs = new Set<[Socket, Socket]>();
  const stall = ([client, upstream]: [Socket, Socket]) => {
    upstream.unpipe(client);
    upstream.pause();
    client.pause();
  };
  const server: Server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (!swallowing) upstream.write(chunk);
    });
    upstream.pipe(client);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
    if (paused) stall(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    port: address.port,
    block() {
      blocked = true;
      swallowing = false;
      for (const s of open) s.destroy();
      open.clear();
    },
    unblock() {
      blocked = false;
    },
    swallow() {
      swallowing = true;
    },
    pause() {
      paused = true;
      for (const pair of pairs) stall(pair);
    },
    resume() {
      paused = false;
      for (const [client, upstream] of pairs) {
        upstream.pipe(client);
        client.resume();
      }
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
