import { timingSafeEqual } from 'node:crypto';
import { parseTc3Authorization, tc3CanonicalRequest, tc3Date, tc3Signature, tc3SignedHost } from '../../src/sms/tencent-signer.js';
import type { FakeRequest } from './fake-server.js';

/** One header as a string, as a verifying server reads it. */
export const headerOf = (request: FakeRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/**
 * Verifies TC3-HMAC-SHA256 as Tencent Cloud does for every API 3.0 product: the canonical request
 * rebuilt from the headers and bytes received (host without its port, as Tencent's SDK signs it),
 * the key chain over date, service and tc3_request, and a 5-minute timestamp window. Returns
 * Tencent's error code and message for a refusal, or undefined when the signature holds.
 */
export function tc3Refusal(
  request: FakeRequest,
  expected: { readonly secretId: string; readonly secretKey: string; readonly service: string; readonly nowMs: number },
): { code: string; message: string } | undefined {
  const auth = parseTc3Authorization(headerOf(request, 'authorization') ?? '');
  if (!auth) return { code: 'AuthFailure.SignatureFailure', message: 'The Authorization header is not TC3-HMAC-SHA256.' };
  const timestamp = Number(headerOf(request, 'x-tc-timestamp'));
  if (!Number.isInteger(timestamp) || Math.abs(expected.nowMs / 1000 - timestamp) > 300) {
    return { code: 'AuthFailure.SignatureExpire', message: 'Signature expired. Timestamp and server time cannot differ by more than five minutes.' };
  }
  if (auth.secretId !== expected.secretId) return { code: 'AuthFailure.SecretIdNotFound', message: 'The SecretId is not found.' };
  const signed = auth.signedHeaders;
  if (
    auth.service !== expected.service ||
    auth.terminator !== 'tc3_request' ||
    auth.date !== tc3Date(timestamp) ||
    !signed.includes('content-type') ||
    !signed.includes('host') ||
    signed.join(';') !== [...signed].sort().join(';')
  ) {
    return { code: 'AuthFailure.SignatureFailure', message: 'The credential scope or signed headers are wrong.' };
  }
  const headers: Record<string, string> = {};
  for (const name of signed) headers[name] = headerOf(request, name) ?? '';
  headers.host = tc3SignedHost(headers.host ?? '');
  const canonical = tc3CanonicalRequest({ method: request.method, path: request.url.pathname, query: request.url.search.slice(1), headers, signedHeaders: signed, body: request.body });
  const want = Buffer.from(tc3Signature(expected.secretKey, expected.service, timestamp, canonical));
  const given = Buffer.from(auth.signature);
  if (want.length !== given.length || !timingSafeEqual(want, given)) {
    return { code: 'AuthFailure.SignatureFailure', message: 'The provided credentials could not be validated. Please check your signature is correct.' };
  }
  return undefined;
}
