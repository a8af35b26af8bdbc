import { randomBytes, timingSafeEqual } from 'node:crypto';
import { json, startFakeServer, type FakeOutcome, type FakeRequest, type FakeServer } from './fake-server.js';

export interface AcceptedTwilioSms {
  readonly to: string;
  readonly from: string | undefined;
  readonly messagingServiceSid: string | undefined;
  readonly body: string;
  readonly sid: string;
}

/** A Twilio error answer: HTTP status and Twilio's numeric code. */
export interface TwilioError {
  readonly status: number;
  readonly code: number;
}

export type TwilioOutage = { http: number } | 'bad_body' | 'hang' | TwilioError;

export interface FakeTwilioOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** The account's sender number. */
  readonly from: string;
}

export interface FakeTwilio extends FakeServer {
  readonly accepted: AcceptedTwilioSms[];
  /** The code in the last message to `phone`, read from the text. */
  lastCode(phone: string): string;
  failNumber(phone: string, error: TwilioError | undefined): void;
  setOutage(outage: TwilioOutage | undefined): void;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * A local stand-in for Twilio's Create Message (POST /2010-04-01/Accounts/{Sid}/Messages.json).
 * It checks HTTP Basic auth against the account SID and auth token, the account in the path,
 * the sender and the "To" number, and answers with Twilio's JSON shapes.
 */
export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  const accepted: AcceptedTwilioSms[] = [];
  const numberFailures = new Map<string, TwilioError>();
  let outage: TwilioOutage | undefined;

  const error = (status: number, code: number, message: string) =>
    json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  function authenticated(request: FakeRequest): boolean {
    const [scheme, encoded] = String(request.headers.authorization ?? '').split(' ');
    if (scheme !== 'Basic' || !encoded) return false;
    const given = Buffer.from(Buffer.from(encoded, 'base64').toString('utf8'));
    const expected = Buffer.from(`${options.accountSid}:${options.authToken}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  function createMessage(request: FakeRequest): FakeOutcome {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(request.url.pathname);
    if (!match || request.method !== 'POST') return error(404, 20404, 'The requested resource was not found');
    if (!authenticated(request)) return error(401, 20003, 'Authenticate');
    if (match[1] !== options.accountSid) return error(403, 20003, 'The account in the URL is not the authenticated account');
    if (outage !== undefined && typeof outage === 'object' && 'code' in outage) return error(outage.status, outage.code, `told to fail with ${outage.code}`);

    const form = new URLSearchParams(request.body);
    const to = form.get('To') ?? '';
    const body = form.get('Body') ?? '';
    const from = form.get('From') ?? undefined;
    const messagingServiceSid = form.get('MessagingServiceSid') ?? undefined;
    if (!from && !messagingServiceSid) return error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message");
    if (from && from !== options.from) return error(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
    if (!body) return error(400, 21602, 'Message body is required.');
    if (!/^\+\d{7,15}$/.test(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const failure = numberFailures.get(to);
    if (failure) return error(failure.status, failure.code, `The 'To' number ${to} was told to fail with ${failure.code}.`);

    const sid = `SM${hex(16)}`;
    accepted.push({ to, from, messagingServiceSid, body, sid });
    return json(201, {
      sid,
      account_sid: options.accountSid,
      to,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      body,
      status: 'queued',
      num_segments: '1',
      price: null,
      error_code: null,
      error_message: null,
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${options.accountSid}/Messages/${sid}.json`,
    });
  }

  const server = await startFakeServer((request) => {
    if (outage === 'hang') return 'hang';
    if (outage === 'bad_body') return { status: 201, body: '<html>gateway says hello</html>', contentType: 'text/html' };
    if (outage !== undefined && typeof outage === 'object' && 'http' in outage) return { status: outage.http, body: 'upstream error' };
    return createMessage(request);
  });

  return {
    ...server,
    accepted,
    lastCode(phone) {
      const text = accepted.filter((m) => m.to === phone).at(-1)?.body ?? '';
      const code = /验证码是(\d+)/.exec(text)?.[1];
      if (!code) throw new Error(`the fake Twilio accepted no SMS for ${phone}`);
      return code;
    },
    failNumber(phone, failure) {
      if (failure === undefined) numberFailures.delete(phone);
      else numberFailures.set(phone, failure);
    },
    setOutage(next) {
      outage = next;
    },
  };
}
