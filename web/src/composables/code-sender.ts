import { computed, ref, watch, type Ref } from 'vue';
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

export interface CodeSenderOptions {
  purpose: Purpose;
  phone: Ref<string>;
  captcha: CaptchaState;
  /** The vendor widget (Turnstile, hCaptcha, Tencent Captcha, GeeTest), used when the server runs one of those. */
  widget: CaptchaWidgetState;
  /** Which captcha this form's sends need ('off' where none is asked, e.g. the password tab); undefined until the settings load. */
  captchaKind: Readonly<Ref<PublicConfigResponse['captcha'] | undefined>>;
  messages: FormMessages;
}

/**
 * Step 2 of the protocol for one form: checks the phone and captcha, asks for a code, then
 * locks the button for the server's `resendAfter`. `busy` is set before the request leaves, so
 * a double click sends one request.
 */
export function useCodeSender({ purpose, phone, captcha, widget, captchaKind, messages }: CodeSenderOptions) {
  const countdown = useCountdown();
  const busy = ref(false);
  const sentTo = ref<string>();
  const validMinutes = ref(5);
  const everSent = ref(false);
  // A widget solved after "solve it first" was said (Tencent's and GeeTest's wait for a click): the message is stale.
  watch(widget.token, (token) => {
    if (token !== undefined) messages.clear('captcha');
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
      });
      sentTo.value = phone.value.trim();
      validMinutes.value = Math.max(1, Math.round(answer.expiresIn / 60));
      everSent.value = true;
      countdown.start(answer.resendAfter);
      // The person's next step is typing the code that is on its way.
      document.getElementById(messages.inputId('code'))?.focus();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const failure = err.failure;
      if (failure.kind === 'api' && BEFORE_CAPTCHA.has(failure.error.code)) reachedCaptcha = false;
      if (failure.kind === 'api' && failure.error.code === 'rate_limited' && failure.error.retryAfter !== undefined) {
        countdown.start(failure.error.retryAfter);
      }
      messages.show(describeFailure(failure, 'send'), send);
      await messages.focusFirst();
    } finally {
      // Every captcha works once, so each send that reached it needs a new picture or a new widget token.
      if (kind === 'image' && reachedCaptcha) void captcha.refresh();
      if (isWidgetKind(kind) && reachedCaptcha) widget.reset();
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
  };
}
