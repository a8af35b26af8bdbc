import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** Writes raw bytes and collects everything the server sends until it closes the connection. */
function rawExchange(port: number, chunks: (string | Buffer)[], options: { gapMs?: number; giveUpMs?: number } = {}) {
  return new Promise<{ text: string; closedAfterMs: number }>((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${options.giveUpMs ?? 10_000} ms; got ${Buffer.concat(received).toString('latin1').slice(0, 200)}`));
    }, options.giveUpMs ?? 10_000);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearTimeout(timer);
      resolve({ text: Buffer.concat(received).toString('latin1'), closedAfterMs: Date.now() - started });
    });
    let i = 0;
    const writeNext = () => {
      if (i >= chunks.length || socket.destroyed) return;
      socket.write(chunks[i++]!);
      timer = setTimeout(writeNext, options.gapMs ?? 0);
    };
    socket.on('connect', writeNext);
  });
}

function parse(text: string) {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, head, body: body ? (JSON.parse(body) as { error: { code: string; message: string } }) : undefined };
}

// Issue 10: 24 of 1,069 malformed requests got Node's or Fastify's own body instead of the documented shape.
describe('malformed HTTP requests over a raw socket', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp({ env: { REQUEST_TIMEOUT_MS: '1000' } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (headers: string, body = '') => `POST /api/sms/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;
  const cases: [string, string | Buffer, number, string][] = [
    ['bad chunked encoding', post('Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'), 400, 'invalid_request'],
    ['Content-Length with Transfer-Encoding', post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 400, 'invalid_request'],
    ['duplicate Content-Length', post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}'), 400, 'invalid_request'],
    ['negative Content-Length', post('Content-Length: -1\r\n', '{}'), 400, 'invalid_request'],
    ['an unknown method', 'BREW /api/me HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
    ['raw bytes in the URL', Buffer.concat([Buffer.from('GET /api/'), Buffer.from([0x01, 0xff, 0x7f]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]), 400, 'invalid_request'],
    ['a control character in a header', Buffer.concat([Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Test: a'), Buffer.from([0x01]), Buffer.from('b\r\n\r\n')]), 400, 'invalid_request'],
    ['oversized headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
  ];

  it.each(cases)('answers %s with the documented error body', async (_name, request, status, code) => {
    const { text } = await rawExchange(port, [request]);
    const res = parse(text);
    expect(res.status).toBe(status);
    expect(res.head.toLowerCase()).toContain('content-type: application/json');
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('answers a method Node knows but no route serves with the documented error body', async () => {
    const res = parse((await rawExchange(port, ['PROPFIND /api/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])).text);
    expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(res.status).toBeGreaterThanOrEqual(400);
  });

  // Issue 10: a dribbled body was held 60–90 s although the documented timeout was 30 s.
  it('cuts a slowly dribbled body at REQUEST_TIMEOUT_MS with request_timeout', async () => {
    const head = 'POST /api/sms/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n';
    // One byte every 150 ms: the body would take 9 s to arrive.
    const { text, closedAfterMs } = await rawExchange(port, [head, ...'{"phone":"+8613800138000","purpose":"register","x":"......"}'.split('')], {
      gapMs: 150,
    });
    const res = parse(text);
    expect(res.status).toBe(408);
    expect(res.body).toEqual({ error: { code: 'request_timeout', message: expect.any(String) } });
    // The deadline is 1 s, checked every second: cut well before the body would have finished.
    expect(closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(closedAfterMs).toBeLessThan(6000);
  });
});
