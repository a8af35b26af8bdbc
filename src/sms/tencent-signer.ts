import { createHash, createHmac } from 'node:crypto';

/** What TC3-HMAC-SHA256 signs: one request, its headers and its exact body bytes. */
export interface Tc3Request {
  readonly method: string;
  /** Path of the request, "/" for every Tencent Cloud API 3.0 call. */
  readonly path: string;
  /** Query string without "?", empty for POST. */
  readonly query: string;
  /** Header name → value; only those named in signedHeaders are signed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Lowercase header names to sign; Tencent requires at least content-type and host. */
  readonly signedHeaders: readonly string[];
  readonly body: string;
}

export interface Tc3Credentials {
  readonly secretId: string;
  readonly secretKey: string;
}

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** The UTC date of a Unix timestamp in seconds: Tencent rejects a local-time date at midnight. */
export function tc3Date(timestampSeconds: number): string {
  return new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
}

/** Step 1 of TC3: method, path, query, "name:value\n" per signed header (lowercase, sorted), names, body hash. */
export function tc3CanonicalRequest(request: Tc3Request): string {
  const lower = new Map(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const names = [...request.signedHeaders].map((n) => n.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${(lower.get(n) ?? '').trim().toLowerCase()}\n`).join('');
  return [request.method.toUpperCase(), request.path, request.query, canonicalHeaders, names.join(';'), sha256Hex(request.body)].join('\n');
}

/** Steps 2 and 3: the string to sign, and its HMAC under the key derived from date, service and "tc3_request". */
export function tc3Signature(secretKey: string, service: string, timestampSeconds: number, canonicalRequest: string): string {
  const date = tc3Date(timestampSeconds);
  const stringToSign = [TC3_ALGORITHM, String(timestampSeconds), `${date}/${service}/tc3_request`, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

/** Step 4: the Authorization header for a request. */
export function tc3Authorization(credentials: Tc3Credentials, service: string, timestampSeconds: number, request: Tc3Request): string {
  const signature = tc3Signature(credentials.secretKey, service, timestampSeconds, tc3CanonicalRequest(request));
  const scope = `${tc3Date(timestampSeconds)}/${service}/tc3_request`;
  const signed = [...request.signedHeaders].map((n) => n.toLowerCase()).sort().join(';');
  return `${TC3_ALGORITHM} Credential=${credentials.secretId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
}

/** The parts of an Authorization header, or undefined when it is not TC3 at all. */
export function parseTc3Authorization(header: string):
  | { secretId: string; date: string; service: string; terminator: string; signedHeaders: string[]; signature: string }
  | undefined {
  const match = /^TC3-HMAC-SHA256 Credential=([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([a-z0-9]+)\/([a-z0-9_]+), ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(header);
  if (!match) return undefined;
  const [, secretId = '', date = '', service = '', terminator = '', signed = '', signature = ''] = match;
  return { secretId, date, service, terminator, signedHeaders: signed.split(';'), signature };
}
