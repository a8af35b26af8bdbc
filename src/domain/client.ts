/** Who is calling, as the HTTP layer saw it: for limits per IP and the audit log. */
export interface ClientContext {
  /** The client address (the socket, or X-Forwarded-For when TRUST_PROXY says so). */
  readonly ip: string;
  readonly userAgent?: string | undefined;
}

/** For callers outside HTTP (scripts, tests of the domain): they share one IP bucket. */
export const UNKNOWN_CLIENT: ClientContext = Object.freeze({ ip: 'unknown' });

/**
 * The key per-IP limits count under. An IPv4 address is itself; an IPv6 address counts as its
 * /64, because one subscriber usually gets a whole /64 and could otherwise rotate through 2^64
 * addresses. IPv4-mapped IPv6 ("::ffff:192.0.2.1") counts as the IPv4 address.
 */
export function ipLimitKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
