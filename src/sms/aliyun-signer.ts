import { createHash, createHmac } from 'node:crypto';

/**
 * RFC 3986 percent-encoding as Alibaba Cloud's signatures require: encodeURIComponent plus
 * ! ' ( ) *, so a space is %20 (never +) and ~ stays as it is.
 */
export function aliyunPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** What signature V3 covers: one request, its headers and its exact body bytes. */
export interface Acs3Request {
  readonly method: string;
  /** "/" for RPC-style APIs such as Dysmsapi. */
  readonly path: string;
  /** Query parameters, before encoding. */
  readonly query: Readonly<Record<string, string>>;
  /** Header name → value. host, content-type and every x-acs-* header are signed. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** SHA-256 of the body, hex: the x-acs-content-sha256 header and the canonical request's last line. */
export const acs3ContentSha256 = (body: string) => sha256Hex(body);

/** The query sorted by name, names and values percent-encoded, joined with &. */
export function acs3CanonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(query[k] ?? '')}`)
    .join('&');
}

/** The headers V3 signs, lowercase and sorted: host, content-type and every x-acs-* one. */
export function acs3SignedHeaderNames(headers: Readonly<Record<string, string>>): string[] {
  return Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n === 'host' || n === 'content-type' || n.startsWith('x-acs-'))
    .sort();
}

/** Method, path, canonical query, "name:value\n" per signed header, their names, the body hash. */
export function acs3CanonicalRequest(request: Acs3Request, signedHeaders = acs3SignedHeaderNames(request.headers)): string {
  const lower = new Map(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonicalHeaders = signedHeaders.map((n) => `${n}:${lower.get(n) ?? ''}\n`).join('');
  return [
    request.method.toUpperCase(),
    request.path,
    acs3CanonicalQuery(request.query),
    canonicalHeaders,
    signedHeaders.join(';'),
    acs3ContentSha256(request.body),
  ].join('\n');
}

/** Hex HMAC-SHA256, under the AccessKey secret, of "ACS3-HMAC-SHA256\n" + SHA-256(canonical request). */
export function acs3Signature(accessKeySecret: string, canonicalRequest: string): string {
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  return createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('hex');
}

/** The Authorization header of a request. */
export function acs3Authorization(accessKeyId: string, accessKeySecret: string, request: Acs3Request): string {
  const signed = acs3SignedHeaderNames(request.headers);
  const signature = acs3Signature(accessKeySecret, acs3CanonicalRequest(request, signed));
  return `${ACS3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
}

/** The parts of a V3 Authorization header, or undefined when it is not one. */
export function parseAcs3Authorization(header: string): { accessKeyId: string; signedHeaders: string[]; signature: string } | undefined {
  const match = /^ACS3-HMAC-SHA256 Credential=([^,\s]+),SignedHeaders=([a-z0-9;-]+),Signature=([0-9a-f]{64})$/.exec(header);
  if (!match) return undefined;
  const [, accessKeyId = '', signed = '', signature = ''] = match;
  return { accessKeyId, signedHeaders: signed.split(';'), signature };
}
