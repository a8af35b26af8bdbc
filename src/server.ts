import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { withEnvFile } from './env-file.js';
import { createLogger } from './logger.js';
import { resolveSecret } from './secret.js';
import { createServices } from './services.js';
import { startMetricsListener } from './http/metrics.js';

/** A `.env` in the working directory, when there is one, under the process's own environment. */
const ENV_FILE = '.env';

/** The process: read the environment once, start, and stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  let fromFile: readonly string[];
  try {
    const read = withEnvFile(process.env, ENV_FILE);
    fromFile = read.fromFile;
    config = loadConfig(read.environment);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example or the README's configuration table.\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Names only: the file holds secrets.
  if (fromFile.length > 0) logger.info({ file: ENV_FILE, variables: fromFile }, 'read settings from .env');
  if (config.env === 'production' && config.smsOutboxFile) {
    logger.warn('SMS_OUTBOX_FILE is set in production: every code is written to that file');
  }
  const services = await createServices(config, resolveSecret(config), logger);
  const app = await buildApp({ config, services, logger });
  const metricsListener =
    config.metrics.port === undefined
      ? undefined
      : await startMetricsListener(services.metrics.registry, { host: config.metrics.host, port: config.metrics.port, log: logger });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    metricsListener?.close();
    await app.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  // Every instance runs a worker; the outbox's claims keep them from sending one event twice at once.
  services.webhooks.worker?.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`sms-verify failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
