import type { Logger } from '../domain/logger.js';

/**
 * Rows written off the request path: a request queues its row and goes on; every `intervalMs`
 * (or sooner, once `batchSize` rows wait) the queue is written in one statement, one transaction.
 * For records of what happened (the audit log, the SMS message log), never for what decides a
 * request: codes and limits stay synchronous.
 *
 * The loss window: rows queued and not yet written are lost if the process crashes (not on
 * SIGTERM or close, which flush): at most `intervalMs` of rows, plus whatever could not be written
 * while the database was down. A failed write is retried with the next flush; the queue is
 * bounded by `maxQueued`, beyond which new rows are dropped and counted in the log.
 */
export interface RowBatcher<Row> {
  add(row: Row): void;
  /** Writes everything queued so far (and waits for a write in flight). */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

export interface RowBatcherOptions<Row> {
  /** What the rows are, for the log: "audit events". */
  readonly name: string;
  /** Writes rows in one statement (one transaction). */
  readonly writeAll: (rows: Row[]) => Promise<void>;
  readonly log: Logger;
  /** @default 50 */
  readonly intervalMs?: number;
  /** Rows per statement. @default 500 */
  readonly batchSize?: number;
  /** @default 10000 */
  readonly maxQueued?: number;
}

export function rowBatcher<Row>(options: RowBatcherOptions<Row>): RowBatcher<Row> {
  const { name, writeAll, log, intervalMs = 50, batchSize = 500, maxQueued = 10_000 } = options;
  let queue: Row[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let dropped = 0;
  let failing = false;

  async function writeQueued(): Promise<void> {
    while (queue.length > 0) {
      const rows = queue.slice(0, batchSize);
      try {
        await writeAll(rows);
      } catch (err) {
        if (!failing) log.error({ err, rows: queue.length }, `could not write ${name}; retrying with the next flush`);
        failing = true;
        schedule();
        return;
      }
      if (failing) log.info({}, `${name} written again`);
      failing = false;
      queue = queue.slice(rows.length);
    }
  }

  function start(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing ??= writeQueued().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => void start(), intervalMs);
    // A process with nothing else to do may exit; close() (on SIGTERM) writes what is queued.
    timer.unref();
  }

  return {
    add(row) {
      if (queue.length >= maxQueued) {
        if (dropped++ % 1000 === 0) log.error({ dropped }, `${name} queue full: rows dropped`);
        return;
      }
      queue.push(row);
      if (queue.length >= batchSize && !writing) void start();
      else schedule();
    },
    async flush() {
      // A write in flight took its rows already; what was queued behind it goes next.
      if (writing) await writing;
      if (queue.length > 0) await start();
    },
    async close() {
      await this.flush();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
