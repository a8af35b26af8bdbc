import { ConfigError, loadConfig } from '../config.js';
import { createApiKeys } from '../domain/verify-api.js';
import { createLogger } from '../logger.js';
import { resolveSecret } from '../secret.js';
import { openDatabase } from './database.js';
import { migrateDatabase } from './migrate.js';
import { kyselyApiKeyRepository } from './verify-repository.js';

const USAGE = 'usage: npm run apikey -- create --name NAME | list | revoke SK…\n';

/**
 * `npm run apikey -- create --name NAME | list | revoke SK…`: the Verify API's keys, in the
 * DATABASE_URL (and under the SECRET) the service reads. `create` prints the secret once, as one
 * line of JSON; only its keyed hash is stored.
 */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const nameAt = rest.indexOf('--name');
  const name = nameAt >= 0 ? rest[nameAt + 1] : undefined;
  if (command !== 'list' && command !== 'create' && command !== 'revoke') {
    process.stderr.write(USAGE);
    return 2;
  }
  if (command === 'create' && (!name || name.length > 100)) {
    process.stderr.write('create needs --name NAME (1 to 100 characters)\n');
    return 2;
  }
  if (command === 'revoke' && !rest[0]) {
    process.stderr.write('revoke needs the key sid: npm run apikey -- revoke SK…\n');
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const log = createLogger(config.logLevel, process.stderr);
  const database = openDatabase(config, log);
  try {
    await migrateDatabase(config, database, log);
    const keys = createApiKeys(kyselyApiKeyRepository(database.db), resolveSecret(config), Date.now);
    switch (command) {
      case 'create':
        process.stdout.write(`${JSON.stringify(await keys.create(name!))}\n`);
        return 0;
      case 'list':
        for (const key of await keys.list()) {
          process.stdout.write(
            `${JSON.stringify({ sid: key.sid, name: key.name, createdAt: new Date(key.createdAt).toISOString(), revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString() })}\n`,
          );
        }
        return 0;
      case 'revoke': {
        const revoked = await keys.revoke(rest[0]!);
        process.stdout.write(revoked ? `revoked ${rest[0]}\n` : `no live key ${rest[0]}\n`);
        return revoked ? 0 : 1;
      }
    }
  } finally {
    await database.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
