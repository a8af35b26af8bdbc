import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess } from '../helpers/server-process.js';

/** The real process refuses unsafe settings at start, before it listens. */
describe('start-up refusals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { NODE_ENV: 'production', SECRET: 's'.repeat(40), DATABASE_URL: `sqlite:${join(dir, 'x.db')}` };

  it('refuses TEST_PHONE_NUMBERS in production without ALLOW_TEST_NUMBERS_IN_PRODUCTION, naming the variable', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const failure = await startServerProcess({ ...base, TEST_PHONE_NUMBERS: '+8613800000000:123456' }).then(
      async (server) => {
        await server.stop();
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(failure).toMatch(/server exited with 1/);
    expect(failure).toMatch(/TEST_PHONE_NUMBERS: refused when NODE_ENV=production/);
    // The fixed code is not echoed back by the message that names the problem.
    expect(failure.split('\n').find((l) => l.includes('TEST_PHONE_NUMBERS:'))).not.toContain('123456');
  });
});
