import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateDatabase } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { kyselyDeliveryRepository, type Delivery, type DeliveryRepository } from './deliveries.js';

/** One line per delivery: what `npm run webhooks -- list` prints. */
export function formatDelivery(d: Delivery): string {
  const outcome = d.state === 'delivered' ? `delivered ${new Date(d.deliveredAt ?? 0).toISOString()}` : d.state === 'pending' ? `next ${new Date(d.nextAttemptAt).toISOString()}` : 'gave up';
  const last = d.lastError ? `  last: ${d.lastError}` : '';
  return `${d.id}  ${d.state.padEnd(9)}  ${d.type.padEnd(24)}  attempts ${String(d.attempts).padStart(2)}  ${outcome}  ${d.url}${last}`;
}

/** The command itself, on an open repository, so tests run it without a process. Resolves to the exit code. */
export async function webhooksCommand(args: readonly string[], deliveries: DeliveryRepository, now: number, out: (line: string) => void): Promise<number> {
  const [command, arg] = args;
  if (command === 'list') {
    const state = arg === 'pending' || arg === 'delivered' || arg === 'failed' ? arg : undefined;
    const rows = await deliveries.list(50, state);
    if (rows.length === 0) out('no deliveries');
    for (const row of rows) out(formatDelivery(row));
    return 0;
  }
  if (command === 'retry' && arg) {
    if (await deliveries.retry(arg, now)) {
      out(`${arg} is due again; a running instance sends it within a second`);
      return 0;
    }
    out(`${arg}: no such delivery waiting or failed (a delivered one is not sent again)`);
    return 1;
  }
  out('usage: npm run webhooks -- list [pending|delivered|failed] | retry ID');
  return 2;
}

// Run as `npm run webhooks`, not when a test imports webhooksCommand.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  const database = openDatabase(config, log);
  let code = 1;
  try {
    await migrateDatabase(config, database, log);
    code = await webhooksCommand(process.argv.slice(2), kyselyDeliveryRepository(database.db, database.kind), Date.now(), (line) => process.stdout.write(`${line}\n`));
  } finally {
    await database.close();
  }
  process.exitCode = code;
}
