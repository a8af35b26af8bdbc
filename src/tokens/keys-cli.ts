import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateDatabase } from '../db/migrate.js';
import { createSecretBox } from '../domain/secret-box.js';
import { createLogger } from '../logger.js';
import { resolveSecret } from '../secret.js';
import { createSigningKeys, kyselySigningKeyRepository } from './signing-keys.js';

/**
 * `npm run keys -- rotate`: adds a new signing key to DATABASE_URL and retires the others. Every
 * instance signs with the new key within 30 s; the old ones stay in the JWKS until the tokens
 * they signed have expired. `npm run keys -- list` shows them.
 */
const [command] = process.argv.slice(2);
if (command !== 'rotate' && command !== 'list') {
  process.stderr.write('usage: npm run keys -- rotate | list\n');
  process.exit(2);
}
const config = loadConfig(process.env);
const log = createLogger(config.logLevel);
const database = openDatabase(config, log);
try {
  await migrateDatabase(config, database, log);
  const keys = createSigningKeys({
    repo: kyselySigningKeyRepository(database.db),
    box: createSecretBox(resolveSecret(config), 'sms-verify signing key'),
    algorithm: config.tokens.algorithm,
    accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
    now: Date.now,
  });
  if (command === 'rotate') {
    const key = await keys.rotate();
    process.stdout.write(`new signing key ${key.kid} (${key.alg}); the previous keys stay published until their tokens expire\n`);
  }
  const published = new Set((await keys.jwks()).keys.map((k) => k.kid));
  const stored = await kyselySigningKeyRepository(database.db).list();
  if (stored.length === 0) process.stdout.write('no signing keys yet: the service generates one on its first start\n');
  for (const key of stored) {
    const state = key.retiredAt === null ? 'signing' : published.has(key.kid) ? 'published' : 'withdrawn';
    process.stdout.write(`${key.kid}  ${key.alg.padEnd(5)}  ${state.padEnd(9)}  created ${new Date(key.createdAt).toISOString()}\n`);
  }
} finally {
  await database.close();
}
