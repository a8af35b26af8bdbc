/**
 * What happened to an account, as webhook receivers hear it (docs/integration.md). The names are
 * the public contract; the data carries the user id, the phone in E.164 and what the event needs,
 * never a code, password, token or key.
 */
export const WEBHOOK_EVENT_TYPES = [
  'user.created',
  'user.signed_in',
  'user.password_reset',
  'user.phone_changed',
  'user.two_factor_enabled',
  'user.two_factor_disabled',
  'user.sessions_revoked',
  'verification.approved',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface DomainEvent {
  readonly type: WebhookEventType;
  /** When it happened, epoch ms. */
  readonly at: number;
  readonly data: {
    readonly userId?: string;
    /** E.164. */
    readonly phone?: string;
    readonly [field: string]: string | number | boolean | readonly string[] | undefined;
  };
}

/**
 * Where the domain hands its events. The outbox (src/webhooks/outbox.ts) implements it; a
 * repository that takes `events` writes them in the same transaction as its change, so an event
 * exists exactly when the change does.
 */
export interface EventPublisher {
  /** Queues the event on its own, for changes that have no repository write to ride on. */
  publish(event: DomainEvent): Promise<void>;
}

/** Publishes nothing: for tests of the domain and for a service with no WEBHOOK_URL. */
export const noEvents: EventPublisher = { publish: async () => {} };
