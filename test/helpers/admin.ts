import { join } from 'node:path';
import { runAdminCommand } from '../../src/admin-cli.js';
import { totpNow } from '../security/helpers.js';
import { PASSWORD, post, registerUser, TEST_SECRET, type TestApp } from './app.js';

/** `npm run admin -- <args>` against the test app's database; answers the exit code and what it printed. */
export async function adminCli(t: TestApp, ...args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runAdminCommand(args, { DATABASE_URL: `sqlite:${join(t.dir, 'test.db')}`, SECRET: TEST_SECRET }, (l) => lines.push(l));
  return { code, output: lines.join('\n') };
}

/** Turns 2FA on for a signed-in user through the API. */
export async function enableTwoFactor(t: TestApp, token: string): Promise<string> {
  const auth = { authorization: `Bearer ${token}` };
  const setup = await post(t.app, '/api/2fa/setup', { password: PASSWORD }, auth);
  const secret = (setup.body as { secret: string }).secret;
  const enabled = await post(t.app, '/api/2fa/enable', { code: await totpNow(secret, t.clock) }, auth);
  if (enabled.status !== 200) throw new Error(`2fa enable failed: ${enabled.status} ${JSON.stringify(enabled.body)}`);
  return secret;
}

/** Registers `phone`, makes it an operator with the CLI and (unless told not to) turns its 2FA on; answers its session token. */
export async function signedInOperator(t: TestApp, phone: string, options: { twoFactor?: boolean } = {}): Promise<string> {
  const token = await registerUser(t, phone);
  const granted = await adminCli(t, 'grant', phone);
  if (granted.code !== 0) throw new Error(granted.output);
  if (options.twoFactor !== false) await enableTwoFactor(t, token);
  return token;
}
