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

/** One Tencent Cloud API 3.0 call: a JSON POST of `action` to `endpoint`. */
export interface TencentApiCall {
  /** e.g. https://sms.tencentcloudapi.com, or a fake's http://127.0.0.1:PORT/path. */
  readonly endpoint: string;
  /** The product in the credential scope: "sms", "captcha". */
  readonly service: string;
  readonly action: string;
  readonly version: string;
  /** X-TC-Region; APIs that take none (captcha) leave it out. */
  readonly region?: string;
  /** Seconds; Tencent refuses signatures more than 5 minutes off. */
  readonly timestamp: number;
  /** The exact JSON bytes to send. */
  readonly body: string;
}

/**
 * The host a TC3 signature covers: the endpoint's host name without a port, as Tencent's SDK signs
 * it (IPv6 keeps its brackets). The SDK still sends Host with the port, so a server that verified
 * with the port would refuse the official client.
 */
export function tc3SignedHost(hostHeaderOrUrl: string): string {
  const url = /^[a-z]+:\/\//i.test(hostHeaderOrUrl) ? new URL(hostHeaderOrUrl) : new URL(`http://${hostHeaderOrUrl}`);
  return url.hostname;
}

/**
 * The headers of a signed Tencent Cloud API call, exactly as the official SDK builds and signs them
 * (content-type and host, host without its port). Host itself is not among them: fetch derives it
 * from the URL.
 */
export function tencentApiHeaders(credentials: Tc3Credentials, call: TencentApiCall): Record<string, string> {
  const url = new URL(call.endpoint);
  const headers: Record<string, string> = {
    // Tencent's SDK sends (and signs) exactly this content type.
    'content-type': 'application/json',
    'x-tc-action': call.action,
    'x-tc-version': call.version,
    'x-tc-timestamp': String(call.timestamp),
    ...(call.region ? { 'x-tc-region': call.region } : {}),
  };
  const authorization = tc3Authorization(credentials, call.service, call.timestamp, {
    method: 'POST',
    path: url.pathname || '/',
    query: url.search.slice(1),
    headers: { ...headers, host: tc3SignedHost(call.endpoint) },
    signedHeaders: ['content-type', 'host'],
    body: call.body,
  });
  return { ...headers, authorization };
}
