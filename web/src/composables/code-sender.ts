import { computed, nextTick, ref, watch, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { ApiError, api, type PublicConfigResponse, type Purpose } from '../api.js';
import { useCountdown } from '../countdown.js';
import { describeFailure } from '../error-messages.js';
import { checkCaptchaAnswer, checkCaptchaToken, checkPhone, collect } from '../form-validation.js';
import type { CaptchaState } from './captcha.js';
import { isWidgetKind, type CaptchaWidgetState } from './captcha-widget.js';
import type { FormMessages } from './form-messages.js';
import { useServerConfig } from './server-config.js';

// The server rejects these before it looks at the captcha, so the picture and its answer are still good.
const BEFORE_CAPTCHA = new Set(['invalid_phone', 'invalid_request']);
/** The cooldown answer does not say how long the earlier code lives; the default TTL, for the hint only. */
const CODE_VALID_FALLBACK_SECONDS = 300;

export interface CodeSenderOptions {
  purpose: Purpose;
  /** The number as the server gets it (with the picked country's calling code). */
  phone: Readonly<Ref<string>>;
  captcha: CaptchaState;
  /** The vendor widget (Turnstile, hCaptcha, Tencent Captcha, GeeTest), used when the server runs one of those. */
  widget: CaptchaWidgetState;
  /** Which captcha this form's sends need ('off' where none is asked, e.g. the password tab); undefined until the settings load. */
  captchaKind: Readonly<Ref<PublicConfigResponse['captcha'] | undefined>>;
  messages: FormMessages;
  /** The phone input's own value: after a reload it gets back the number the pending code went to. */
  typedPhone?: Ref<string>;
}

/** What survives a reload of the tab: the number a code went to and when another may be asked for. */
interface SentState {
  phone: string;
  resendAt: number;
  expiresAt: number;
}

const storageKey = (purpose: Purpose) => `sms-verify.sent.${purpose}`;

function readSent(purpose: Purpose, now: number): SentState | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey(purpose)) ?? 'null') as Partial<SentState> | null;
    if (typeof saved?.phone !== 'string' || typeof saved.resendAt !== 'number' || typeof saved.expiresAt !== 'number') return undefined;
    // A code past its lifetime is nothing to come back to.
    return saved.expiresAt > now ? (saved as SentState) : undefined;
  } catch {
    // Storage off or a value of another build: the page then starts afresh, as it did before.
    return undefined;
  }
}

function writeSent(purpose: Purpose, state: SentState | undefined): void {
  try {
    if (state) sessionStorage.setItem(storageKey(purpose), JSON.stringify(state));
    else sessionStorage.removeItem(storageKey(purpose));
  } catch {
    // See readSent.
  }
}

/**
 * Step 2 of the protocol for one form: checks the phone and captcha, asks for a code, then
 * locks the button for the server's `resendAfter`. `busy` is set before the request leaves, so
 * a double click sends one request.
 */
export function useCodeSender({ purpose, phone, captcha, widget, captchaKind, messages, typedPhone }: CodeSenderOptions) {
  const { locale } = useI18n();
  const countdown = useCountdown();
  const busy = ref(false);
  const sentTo = ref<string>();
  const validMinutes = ref(5);
  const everSent = ref(false);
  /**
   * Once a code is on its way the captcha has done its job: it stays out of sight, so the form does
   * not look as if it had to be solved again, until the person asks for another code.
   */
  const captchaHidden = ref(false);

  function remember(to: string, expiresIn: number, resendAfter: number): void {
    const now = Date.now();
    sentTo.value = to;
    validMinutes.value = Math.max(1, Math.round(expiresIn / 60));
    everSent.value = true;
    captchaHidden.value = true;
    countdown.start(resendAfter);
    writeSent(purpose, { phone: to, resendAt: now + resendAfter * 1000, expiresAt: now + expiresIn * 1000 });
  }

  // A reload keeps the countdown and the number: asking again inside the cooldown would only be refused.
  const saved = readSent(purpose, Date.now());
  if (saved) {
    sentTo.value = saved.phone;
    validMinutes.value = Math.max(1, Math.round((saved.expiresAt - Date.now()) / 60_000));
    everSent.value = true;
    captchaHidden.value = true;
    countdown.start(Math.ceil((saved.resendAt - Date.now()) / 1000));
    if (typedPhone && !typedPhone.value) typedPhone.value = saved.phone;
  }

  /** The captcha comes back for another code; the send waits until it is solved. */
  async function showCaptchaAgain(kind: PublicConfigResponse['captcha']): Promise<void> {
    captchaHidden.value = false;
    if (kind === 'image') void captcha.refresh();
    await nextTick();
    document.getElementById(messages.inputId('captcha'))?.focus();
  }

  // A widget solved after "solve it first" was said (Tencent's and GeeTest's wait for a click): the message is stale.
  // Only "solve it first" is cleared: a refusal ("failed or expired") stays while the widget hands a new token.
  watch(widget.token, (token) => {
    if (token !== undefined && messages.messages.captcha?.key === 'validation.captchaWidgetRequired') messages.clear('captcha');
  });

  async function send(): Promise<void> {
    if (busy.value || countdown.remaining.value > 0) return;
    // Locked before the first await, so a second click finds it locked whatever this send waits on.
    busy.value = true;
    try {
      await attempt();
    } finally {
      busy.value = false;
    }
  }

  async function attempt(): Promise<void> {
    messages.clear('form');
    messages.clear('code');
    if (captchaKind.value === undefined) {
      // The settings did not load (offline when the page opened): without them the form cannot tell whether a captcha is needed.
      await useServerConfig().reload();
      if (captchaKind.value === undefined) {
        messages.show({ target: 'form', key: 'errors.unreachable', remedy: 'retry' }, send);
        return;
      }
    }
    const kind = captchaKind.value;
    if (captchaHidden.value && (kind === 'image' || isWidgetKind(kind))) {
      await showCaptchaAgain(kind);
      return;
    }
    const problems = collect(
      checkPhone(phone.value),
      kind === 'image' ? checkCaptchaAnswer(captcha.answer.value) : undefined,
      isWidgetKind(kind) ? checkCaptchaToken(widget.token.value) : undefined,
    );
    messages.clear('phone');
    messages.clear('captcha');
    if (problems.length) {
      for (const p of problems) messages.show(p);
      await messages.focusFirst();
      return;
    }
    let reachedCaptcha = true;
    try {
      const answer = await api.sendCode({
        phone: phone.value.trim(),
        purpose,
        ...(kind === 'image' ? { captchaId: captcha.id.value ?? '', captchaAnswer: captcha.answer.value.trim() } : {}),
        ...(isWidgetKind(kind) ? (widget.answer.value ?? { captchaToken: '' }) : {}),
        locale: locale.value === 'en' ? 'en' : 'zh-CN',
      });
      remember(phone.value.trim(), answer.expiresIn, answer.resendAfter);
      // The person's next step is typing the code that is on its way.
      document.getElementById(messages.inputId('code'))?.focus();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const failure = err.failure;
      if (failure.kind === 'api' && BEFORE_CAPTCHA.has(failure.error.code)) reachedCaptcha = false;
      if (failure.kind === 'api' && failure.error.code === 'rate_limited' && failure.error.retryAfter !== undefined) {
        // Inside the cooldown the code sent earlier (from another tab, or before storage was cleared) still works.
        if (failure.error.reason === 'resend_cooldown') {
          remember(phone.value.trim(), CODE_VALID_FALLBACK_SECONDS, failure.error.retryAfter);
        } else countdown.start(failure.error.retryAfter);
      }
      messages.show(describeFailure(failure, 'send'), send);
      await messages.focusFirst();
    } finally {
      // Every captcha works once, so each send that reached it needs a new picture or a new widget token
      // (a hidden one gets its new picture when it is shown again).
      if (kind === 'image' && reachedCaptcha && !captchaHidden.value) void captcha.refresh();
      if (isWidgetKind(kind) && reachedCaptcha && !captchaHidden.value) widget.reset();
    }
  }

  return {
    send,
    busy,
    remaining: countdown.remaining,
    /** The number the last code went to, as typed. */
    sentTo,
    validMinutes,
    /** Whether the button should say "send again". */
    everSent,
    disabled: computed(() => busy.value || countdown.remaining.value > 0),
    captchaHidden,
    /** After the code did its job (signed up, signed in): a reload should not bring the countdown back. */
    forget: () => writeSent(purpose, undefined),
  };
}
