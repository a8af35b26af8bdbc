import { createHmac } from 'node:crypto';

/**
 * RFC 3986 percent-encoding as Alibaba Cloud's RPC signature requires: encodeURIComponent plus
 * ! ' ( ) *, so a space is %20 (never +) and ~ stays as it is.
 */
export function aliyunPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonicalized query: every parameter but Signature, sorted by name, encoded, joined with &. */
export function aliyunCanonicalQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(params[k] ?? '')}`)
    .join('&');
}

/** StringToSign = METHOD & %2F & encode(canonicalized query). */
export function aliyunStringToSign(method: string, params: Readonly<Record<string, string>>): string {
  return `${method.toUpperCase()}&${aliyunPercentEncode('/')}&${aliyunPercentEncode(aliyunCanonicalQuery(params))}`;
}

/** Alibaba Cloud RPC signature v1: Base64(HMAC-SHA1(secret + "&", StringToSign)). */
export function aliyunSignature(accessKeySecret: string, method: string, params: Readonly<Record<string, string>>): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(aliyunStringToSign(method, params), 'utf8').digest('base64');
}
