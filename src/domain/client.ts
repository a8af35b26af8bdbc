/** Who is calling, as the HTTP layer saw it: for limits per IP and the audit log. */
export interface ClientContext {
  /** The client address (the socket, or X-Forwarded-For when TRUST_PROXY says so). */
  readonly ip: string;
  readonly userAgent?: string | undefined;
}

/** For callers outside HTTP (scripts, tests of the domain): they share one IP bucket. */
export const UNKNOWN_CLIENT: ClientContext = Object.freeze({ ip: 'unknown' });
