import pino, { type Logger } from 'pino';

/**
 * JSON logs. Fields that could carry a secret are censored wherever they appear; the domain
 * only ever logs masked numbers, so this is the second line of defence, not the first.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.newPassword',
          '*.code',
          '*.token',
          '*.accessToken',
          '*.refreshToken',
          '*.captchaAnswer',
        ],
        censor: '[redacted]',
      },
    },
    // Written asynchronously: a synchronous write per line was the largest single cost of a send
    // under load (docs/benchmarks.md). pino flushes what is pending when the process exits.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
