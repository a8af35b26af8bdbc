import type { Hasher } from '../domain/codes.js';
import type { Logger } from '../domain/logger.js';
import { AppError } from '../errors.js';
import type { RateLimit } from '../limits/types.js';

/** What every vendor-verified captcha (Turnstile, hCaptcha, Tencent, GeeTest) needs besides its keys. */
export interface VendorCaptchaDeps {
  /** Remembers used tokens (one point per token hash) so a token works once even if the vendor would accept it again. */
  readonly usedTokens: RateLimit;
  readonly hasher: Hasher;
  readonly now: () => number;
  readonly log: Logger;
}

/** The vendor cannot give a verdict: logged with the reason, answered as 503 and never as a pass. */
export function captchaUnavailable(log: Logger, kind: string, reason: string, cause?: unknown): AppError {
  log.error({ captcha: kind, reason, err: cause }, 'captcha verifier unavailable');
  return new AppError('service_unavailable', {}, { cause });
}

/**
 * Claims a token before the vendor is asked, so two requests with one token cannot both pass, even
 * on two instances (the claim is an atomic counter in the limit store).
 */
export async function claimToken(deps: VendorCaptchaDeps, token: string, field: string): Promise<void> {
  const claim = await deps.usedTokens.take(deps.hasher.token(`captcha:${token}`), deps.now());
  if (!claim.allowed) throw new AppError('captcha_invalid', { field });
}

/**
 * POSTs to a vendor's verify endpoint within `timeoutMs` and returns the JSON object it answered.
 * A network failure, the deadline, a non-200 status or a body that is not a JSON object are
 * `service_unavailable`.
 */
export async function postToVerifier(
  kind: string,
  log: Logger,
  url: string,
  init: { headers: Record<string, string>; body: string | URLSearchParams },
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    const res = await fetch(url, { method: 'POST', ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    if (!res.ok) throw captchaUnavailable(log, kind, `verifier answered HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw captchaUnavailable(log, kind, err instanceof Error ? `${err.name}: ${err.message}` : 'verifier call failed', err);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw captchaUnavailable(log, kind, 'verifier answered an unexpected body');
  return body as Record<string, unknown>;
}
