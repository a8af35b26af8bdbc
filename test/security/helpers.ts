import type { AddressInfo } from 'node:net';
import { generate } from 'otplib';
import type { FastifyInstance } from 'fastify';
import type { FakeClock, TestApp } from '../helpers/app.js';

/** POST JSON as if from `ip` (app.inject's remoteAddress), with optional headers. */
export async function postFrom(app: FastifyInstance, ip: string, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url, payload: body as object, headers, remoteAddress: ip });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined, headers: res.headers };
}

/** The TOTP code an authenticator app would show at the fake clock's time (plus `offsetSeconds`). */
export function totpNow(secret: string, clock: FakeClock, offsetSeconds = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(clock.now() / 1000) + offsetSeconds });
}

/** Listens on a free port and returns a JSON client for real concurrent requests. */
export async function listen(t: TestApp) {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  return {
    base,
    async post(url: string, body: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined };
    },
  };
}

/** A different 138 number for each n, all in one prefix block unless `block` differs. */
export const phoneN = (n: number, block = '0013') => `+86138${block}${String(n).padStart(4, '0')}`;
