import type { ApiFailure, LoginResult } from './api.js';

/**
 * Where a sign-in stands. With 2FA on, the first step (password or SMS code) answers a ticket
 * instead of a session, and the page asks for the authenticator code on the same page.
 */
export type SignInStep =
  | { step: 'credentials' }
  | {
      step: 'second_factor';
      ticket: string;
      /** Epoch ms after which the server no longer takes the ticket. */
      expiresAt: number;
    };

export const FIRST_STEP: SignInStep = { step: 'credentials' };

// A code typed in the ticket's last seconds would reach the server after it expired: start over a little early instead.
const EXPIRY_MARGIN_MS = 5_000;

/** What the first step's answer leads to: signed in, or the second step with its ticket. */
export function afterFirstStep(result: LoginResult, now: number): SignInStep | 'signed_in' {
  if ('twoFactorRequired' in result) {
    return { step: 'second_factor', ticket: result.ticket, expiresAt: now + result.expiresIn * 1000 };
  }
  return 'signed_in';
}

/** Whether the ticket can still be sent; an expired one means starting over without asking the server. */
export function ticketUsable(state: SignInStep, now: number): state is Extract<SignInStep, { step: 'second_factor' }> {
  return state.step === 'second_factor' && now < state.expiresAt - EXPIRY_MARGIN_MS;
}

/**
 * After a failed second step: a wrong code may be typed again on the same ticket (the server
 * bounds the guesses); a ticket the server no longer knows means starting over at step one.
 */
export function afterSecondStepFailure(failure: ApiFailure): 'stay' | 'start_over' {
  return failure.kind === 'api' && failure.error.code === 'ticket_invalid' ? 'start_over' : 'stay';
}
