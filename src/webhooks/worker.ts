import { Webhook } from 'standardwebhooks';
import type { Logger } from '../domain/logger.js';
import type { Delivery, DeliveryRepository } from './deliveries.js';

/** A failing receiver is retried for at least this long after the event, then the row is marked failed. */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const FIRST_RETRY_MS = 10_000;
const LONGEST_WAIT_MS = 2 * 3600 * 1000;

/**
 * Wait before the next attempt, after `attempts` failed ones: 10 s doubling up to 2 h, then every
 * 2 h, with ±20 % jitter so receivers coming back are not hit by every instance's backlog at once.
 * About 20 attempts fit in the 24 h window.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(LONGEST_WAIT_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface WebhookWorkerDeps {
  readonly deliveries: DeliveryRepository;
  /** whsec_… */
  readonly secret: string;
  readonly timeoutMs: number;
  /** Scheduling clock (tests move it). The signature's timestamp is always the wall clock, which receivers compare with theirs. */
  readonly now: () => number;
  readonly log: Logger;
  /** How often the worker looks for due rows. @default 1000 */
  readonly pollMs?: number;
  /** Rows taken per look, delivered concurrently. @default 20 */
  readonly batchSize?: number;
  readonly fetch?: typeof fetch;
}

export interface WebhookWorker {
  /** Delivers what is due now, once; resolves to how many attempts were made. */
  deliverDue(): Promise<number>;
  /** Polls in the background until stop(). */
  start(): void;
  /** Stops polling and waits for attempts in flight. */
  stop(): Promise<void>;
}

/** Short and free of the receiver's body: it is shown by `npm run webhooks -- list`. */
function describeFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timeout';
  if (err instanceof Error && err.name === 'AbortError') return 'stopped';
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message.slice(0, 200) : 'error';
}

export function createWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const signer = new Webhook(deps.secret);
  const send = deps.fetch ?? fetch;
  const pollMs = deps.pollMs ?? 1000;
  const batchSize = deps.batchSize ?? 20;
  // A row is held for a whole attempt and a margin; a worker that dies loses it when this lapses.
  const holdMs = deps.timeoutMs + 30_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;
  // Aborts attempts in flight at stop(), so a shutdown does not wait out a hung receiver; the row is retried.
  let stopping = new AbortController();

  async function attempt(delivery: Delivery, claim: string): Promise<void> {
    let status: number | null = null;
    let error: string | null = null;
    try {
      const sentAt = new Date();
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'sms-verify-webhooks',
        'webhook-id': delivery.eventId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signer.sign(delivery.eventId, sentAt, delivery.payload),
      };
      const res = await send(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.payload,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(deps.timeoutMs), stopping.signal]),
      });
      status = res.status;
      // The body is not needed; reading it to the end (or cancelling) frees the connection.
      await res.body?.cancel().catch(() => {});
      if (status < 200 || status > 299) error = `status ${status}`;
    } catch (err) {
      error = describeFailure(err);
    }
    const now = deps.now();
    if (error === null) {
      await deps.deliveries.recordAttempt(delivery.id, claim, { state: 'delivered', status, error, nextAttemptAt: now }, now);
      return;
    }
    const attempts = delivery.attempts + 1;
    const giveUp = now - delivery.createdAt >= RETRY_WINDOW_MS;
    const nextAttemptAt = now + retryDelayMs(attempts);
    deps.log.warn({ deliveryId: delivery.id, type: delivery.type, url: delivery.url, attempts, status, reason: error, giveUp }, 'webhook delivery failed');
    await deps.deliveries.recordAttempt(delivery.id, claim, { state: giveUp ? 'failed' : 'pending', status, error, nextAttemptAt }, now);
  }

  async function deliverDue(): Promise<number> {
    const now = deps.now();
    const { claim, deliveries } = await deps.deliveries.claimDue(now, batchSize, now + holdMs);
    await Promise.all(deliveries.map((d) => attempt(d, claim)));
    return deliveries.length;
  }

  const tick = () => {
    running = (async () => {
      try {
        // A full batch means more may be waiting: look again at once.
        while (!stopped && (await deliverDue()) === batchSize);
      } catch (err) {
        deps.log.warn({ err }, 'webhook worker could not read the outbox');
      }
      if (!stopped) timer = setTimeout(tick, pollMs);
    })();
  };

  return {
    deliverDue,
    start() {
      if (!stopped) return;
      stopped = false;
      stopping = new AbortController();
      timer = setTimeout(tick, pollMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      stopping.abort();
      await running;
    },
  };
}
