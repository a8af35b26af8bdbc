import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { withEnvFile } from '../src/env-file.js';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from './helpers/server-process.js';

/** Regression for issue 9: a `.env` copied from `.env.example` was never read. */
describe('the .env file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-verify-env-file-'));
  const envFile = join(dir, '.env');
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds its variables under the environment, which wins even when empty', () => {
    writeFileSync(envFile, '# settings\nPORT=4000\nCODE_LENGTH=8\nSECRET="from the file"\nexport LOG_LEVEL=warn\nREDIS_URL=redis://file\n');
    const { environment, fromFile } = withEnvFile({ CODE_LENGTH: '4', REDIS_URL: '' }, envFile);
    expect(environment).toEqual({ PORT: '4000', CODE_LENGTH: '4', SECRET: 'from the file', LOG_LEVEL: 'warn', REDIS_URL: '' });
    expect([...fromFile].sort()).toEqual(['LOG_LEVEL', 'PORT', 'SECRET']);
  });

  it('is optional: without one the environment is used as it is', () => {
    const environment = { PORT: '5000' };
    expect(withEnvFile(environment, join(dir, 'missing.env'))).toEqual({ environment, fromFile: [] });
  });

  it('a .env that cannot be read stops the start instead of being ignored', () => {
    // A directory stands in for an unreadable file: permissions do not stop root, which runs CI here.
    const unreadable = join(dir, 'unreadable');
    mkdirSync(unreadable);
    expect(() => withEnvFile({}, unreadable)).toThrow(/EISDIR/);
  });

  it('.env.example copied to .env is a valid configuration with the documented defaults', () => {
    copyFileSync(new URL('../.env.example', import.meta.url), envFile);
    const { environment } = withEnvFile({}, envFile);
    expect(loadConfig(environment)).toEqual(loadConfig({}));
  });

  it('the server process reads .env from its working directory, and the environment wins', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    writeFileSync(
      envFile,
      [`DATABASE_URL=sqlite:${join(dir, 'env-file.db')}`, 'CAPTCHA=off', 'CODE_LENGTH=8', 'DEFAULT_REGION=US', 'SMS_ALLOWED_COUNTRIES=*'].join('\n'),
    );
    server = await startServerProcess({ DEFAULT_REGION: 'GB' }, { cwd: dir });
    const config = (await (await fetch(`${server.url}/api/config`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ captcha: 'off', codeLength: 8, defaultRegion: 'GB' });
    expect(server.output()).toContain('read settings from .env');
  });
});
