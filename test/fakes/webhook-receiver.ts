import { Webhook } from 'standardwebhooks';
import { json, startFakeServer, type FakeOutcome, type FakeServer } from './fake-server.js';

export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
  readonly raw: string;
}

export interface WebhookReceiver extends FakeServer {
  /** Events whose signature the standardwebhooks verifier accepted, in arrival order (duplicates kept). */
  readonly received: ReceivedEvent[];
  /** Requests the verifier refused. */
  readonly refused: number;
  /** What the receiver answers: 'ok' (204), 'down' (503) or 'hang' (never answers). */
  mode: 'ok' | 'down' | 'hang';
}

/**
 * A product backend's webhook endpoint: it verifies every request with the official
 * standardwebhooks verifier (signature and timestamp) before it counts it as received.
 */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const state = { received: [] as ReceivedEvent[], refused: 0, mode: 'ok' as WebhookReceiver['mode'] };
  const server = await startFakeServer((request): FakeOutcome => {
    if (state.mode === 'hang') return 'hang';
    if (state.mode === 'down') return json(503, { error: 'down for maintenance' });
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
    let event: { type: string; timestamp: string; data: Record<string, unknown> };
    try {
      event = verifier.verify(request.body, headers) as typeof event;
    } catch {
      state.refused++;
      return json(400, { error: 'bad signature' });
    }
    state.received.push({ id: headers['webhook-id']!, ...event, raw: request.body });
    return { status: 204, body: '' };
  });
  return {
    ...server,
    received: state.received,
    get refused() {
      return state.refused;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode: WebhookReceiver['mode']) {
      state.mode = mode;
    },
  };
}
