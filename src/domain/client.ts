/** Who is calling, as the HTTP layer saw it: for limits per IP and the audit log. */
export interface ClientContext {
  /** The client address (the socket, or X-Forwarded-For when TRUST_PROXY says so). */
  readonly ip: string;
  readonly userAgent?: string | undefined;
}

/** For callers outside HTTP (scripts, tests of the domain): they share one IP bucket. */
export const UNKNOWN_CLIENT: ClientContext = Object.freeze({ ip: 'unknown' });

/** A home line usually gets a /56 (RIPE-690), so 256 /64s: counting per /64 would give it 256 buckets. */
export const DEFAULT_IPV6_LIMIT_PREFIX = 56;

/**
 * The key per-IP limits count under. An IPv4 address is itself; an IPv6 address counts as its
 * first `ipv6Prefix` bits (IPV6_LIMIT_PREFIX, 48 to 64), because one subscriber gets a whole
 * prefix and could otherwise rotate through its addresses or its /64s.
 * IPv4-mapped IPv6 ("::ffff:192.0.2.1") counts as the IPv4 address.
 */
export function ipLimitKey(ip: string, ipv6Prefix: number = DEFAULT_IPV6_LIMIT_PREFIX): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  const kept: string[] = [];
  for (let bit = 0, g = 0; bit < ipv6Prefix; bit += 16, g++) {
    const value = Number.parseInt(groups[g] ?? '0', 16) || 0;
    const bits = Math.min(16, ipv6Prefix - bit);
    kept.push(((value >> (16 - bits)) << (16 - bits)).toString(16));
  }
  return `${kept.join(':')}::/${ipv6Prefix}`;
}
