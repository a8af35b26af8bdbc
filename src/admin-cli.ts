import { ConfigError, loadConfig } from './config.js';
import { kyselyAccountRepository } from './db/account-repository.js';
import { kyselyAdminReadModel, kyselyOperatorRepository } from './db/admin-repository.js';
import { kyselyAuditLogRepository } from './db/audit-log.js';
import { openDatabase } from './db/database.js';
import { migrateDatabase } from './db/migrate.js';
import { createAuditLog } from './domain/audit.js';
import { maskPhone, normalizePhone } from './domain/phone.js';
import { AppError } from './errors.js';
import { createLogger } from './logger.js';

const USAGE = `usage: npm run admin -- grant <phone>    make the account with this number an operator
       npm run admin -- revoke <phone>   take the operator role away
       npm run admin -- list             list the operators
An operator also needs two-factor authentication on to open the admin console (/admin).
`;

/**
 * `npm run admin -- grant +8613800138000`: operators are named from the server's shell, never
 * through the API, so a stolen session cannot make itself one. Each change is an audit event.
 */
export async function runAdminCommand(argv: readonly string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<number> {
  const [command, rawPhone] = argv;
  if (!command || !['grant', 'revoke', 'list'].includes(command) || (command !== 'list' && !rawPhone)) {
    out(USAGE);
    return 2;
  }
  const config = loadConfig(env);
  const log = createLogger('warn');
  const database = openDatabase(config, log);
  try {
    await migrateDatabase(config, database, log);
    const operators = kyselyOperatorRepository(database.db);
    const accounts = kyselyAccountRepository(database.db);
    if (command === 'list') {
      const rows = await database.db.selectFrom('operators').innerJoin('users', 'users.id', 'operators.user_id').select(['users.phone', 'operators.granted_at']).execute();
      for (const row of rows) out(`${row.phone}  since ${new Date(Number(row.granted_at)).toISOString()}`);
      if (rows.length === 0) out('no operators');
      return 0;
    }
    const phone = normalizePhone(rawPhone!, config.defaultRegion);
    const user = await accounts.findUserByPhone(phone);
    if (!user) {
      out(`no account uses ${maskPhone(phone)}: the person signs up first`);
      return 1;
    }
    const audit = createAuditLog(kyselyAuditLogRepository(database.db), Date.now, log);
    if (command === 'grant') {
      const granted = await operators.grant(user.id, Date.now());
      if (granted) await audit.record({ type: 'operator_granted', userId: user.id, phone, detail: 'cli' });
      out(granted ? `${phone} is now an operator` : `${phone} already was an operator`);
      const twoFactor = await database.db.selectFrom('two_factor').select('enabled_at').where('user_id', '=', user.id).executeTakeFirst();
      if (!twoFactor?.enabled_at) out('note: two-factor authentication is off for this account; the console opens once it is on');
    } else {
      const revoked = await operators.revoke(user.id);
      if (revoked) await audit.record({ type: 'operator_revoked', userId: user.id, phone, detail: 'cli' });
      out(revoked ? `${phone} is no longer an operator` : `${phone} was not an operator`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runAdminCommand(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof AppError) process.stderr.write(`${err.message}\n`);
      else process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
