import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder between the service and a real server, which a test can break the two ways
 * networks break. Nothing is simulated above TCP; the driver sees a real network failure.
 */
export interface TcpProxy {
  readonly port: number;
  /** The host went away and said so: every connection is reset, new ones are refused. */
  refuse(): void;
  /**
   * The host went silent (a partition, a failover that moved the address): every open connection
   * stops carrying bytes for good, and new ones are accepted but never answered.
   */
  blackhole(): void;
  /** New connections reach the server again; connections broken before stay broken. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  type Pair = { sockets: Socket[]; dead: boolean };
  const pairs = new Set<Pair>();
  let mode: 'open' | 'refuse' | 'blackhole' = 'open';

  const server: Server = createServer((client) => {
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { sockets: [client], dead: mode === 'blackhole' };
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
    client.on('error', () => pair.sockets.forEach((s) => s.destroy()));
    if (pair.dead) return;
    const upstream = createConnection(target);
    pair.sockets.push(upstream);
    upstream.on('error', () => pair.sockets.forEach((s) => s.destroy()));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => pair.dead || upstream.write(d));
    upstream.on('data', (d) => pair.dead || client.write(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    refuse() {
      mode = 'refuse';
      for (const pair of pairs) pair.sockets.forEach((s) => s.resetAndDestroy());
    },
    blackhole() {
      mode = 'blackhole';
      for (const pair of pairs) pair.dead = true;
    },
    restore() {
      mode = 'open';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) pair.sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
