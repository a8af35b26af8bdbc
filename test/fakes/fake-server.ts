import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a fake provider sees it: the raw body bytes are what signatures cover. */
export interface FakeRequest {
  readonly method: string;
  readonly url: URL;
  /** Lowercase names, as Node gives them. */
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface FakeReply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

/** What a fake's handler may do: answer, or hold the request open like a hung provider. */
export type FakeOutcome = FakeReply | 'hang';

export interface FakeServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Requests received, including refused and hung ones. */
  requestCount(): number;
  /** Resolves once a hung request's connection has been closed by the client (its deadline). */
  hungRequestClosed(): Promise<void>;
  close(): Promise<void>;
}

export const json = (status: number, body: unknown): FakeReply => ({ status, body: JSON.stringify(body), contentType: 'application/json' });

/** A local HTTP server on 127.0.0.1, port 0 unless given, that hands each full request to `handle`. */
export async function startFakeServer(handle: (request: FakeRequest) => FakeOutcome, port = 0): Promise<FakeServer> {
  let count = 0;
  const closedWaiters: (() => void)[] = [];
  let closedHung = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    count += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      let outcome: FakeOutcome;
      try {
        outcome = handle(request);
      } catch (err) {
        outcome = { status: 500, body: `fake crashed: ${String(err)}` };
      }
      if (outcome === 'hang') {
        res.on('close', () => {
          closedHung += 1;
          for (const wake of closedWaiters.splice(0)) wake();
        });
        return;
      }
      res.writeHead(outcome.status, { 'content-type': outcome.contentType ?? 'text/plain' });
      res.end(outcome.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${bound}`,
    requestCount: () => count,
    hungRequestClosed: () =>
      closedHung > 0 ? Promise.resolve() : new Promise<void>((resolve) => closedWaiters.push(resolve)),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
