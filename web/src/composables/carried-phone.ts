/**
 * The number typed on the previous page, carried in history state by links such as
 * "already registered? sign in", so the person does not type it twice. Not in the URL: it
 * would end up in server logs and browser history.
 */
export function carriedPhone(): string {
  const state = window.history.state as { phone?: unknown } | null;
  return typeof state?.phone === 'string' ? state.phone : '';
}

/** A notice left by the previous page (signed out, password reset), from history state. */
export function carriedNotice(): string | undefined {
  const state = window.history.state as { notice?: unknown } | null;
  return typeof state?.notice === 'string' ? state.notice : undefined;
}
