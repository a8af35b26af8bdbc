import { ref, type Ref } from 'vue';
import type { api, PublicConfigResponse } from '../api.js';

export type WidgetKind = Extract<PublicConfigResponse['captcha'], 'turnstile' | 'hcaptcha' | 'tencent' | 'geetest'>;
const WIDGET_KINDS: readonly string[] = ['turnstile', 'hcaptcha', 'tencent', 'geetest'] satisfies WidgetKind[];
export const isWidgetKind = (kind: PublicConfigResponse['captcha'] | undefined): kind is WidgetKind => kind !== undefined && WIDGET_KINDS.includes(kind);

/** The fields of POST /api/sms/send a solved widget fills in. */
export type WidgetAnswer = Partial<Pick<Parameters<typeof api.sendCode>[0], 'captchaToken' | 'captchaRandstr' | 'geetest'>>;

/** What every vendor adapter is told when it renders. */
interface RenderOptions {
  readonly siteKey: string;
  readonly locale: string;
  /** The container is narrower than the vendor's normal widget (a 360 px phone). */
  readonly narrow: (normalWidth: number) => boolean;
  /** The widget was solved: the request fields and a short token that says so. */
  solved(answer: WidgetAnswer, token: string): void;
  /** The answer expired, or the challenge was closed unsolved. */
  cleared(): void;
  failed(): void;
}

/** One rendered widget. */
interface RenderedWidget {
  reset(): void;
  remove(): void;
}

/**
 * A vendor: its script (explicit mode: the page decides when and where to render), the global it
 * defines, and how to render with it. The page's CSP allows these origins only when the server runs
 * that captcha (src/http/web-pages.ts). Tests intercept these URLs and answer a small fake, so no
 * override is built into the page.
 */
interface Vendor {
  readonly script: string;
  readonly global: string;
  render(api: unknown, container: HTMLElement, options: RenderOptions): RenderedWidget;
}

/** The part of `window.turnstile` and `window.hcaptcha` the pages use; both vendors offer these three calls. */
interface SiteverifyWidgetApi {
  render(container: HTMLElement, options: Record<string, unknown>): string | number | null | undefined;
  reset(id?: string | number): void;
  remove(id?: string | number): void;
}

/** Turnstile and hCaptcha draw an embedded widget that hands over one token. */
function siteverifyVendor(script: string, global: string, normalWidth: number, language: (locale: string) => Record<string, string>): Vendor {
  return {
    script,
    global,
    render(api, container, options) {
      const widgets = api as SiteverifyWidgetApi;
      const id = widgets.render(container, {
        sitekey: options.siteKey,
        // The normal widget is a fixed 300 px: on a 360 px phone the card is narrower, so the compact one fits instead.
        size: options.narrow(normalWidth) ? 'compact' : 'normal',
        ...language(options.locale),
        callback: (value: string) => options.solved({ captchaToken: value }, value),
        'expired-callback': () => options.cleared(),
        'error-callback': () => {
          options.failed();
          // Turnstile: a truthy answer says the page handled the error, so the widget does not throw it.
          return true;
        },
      });
      return { reset: () => widgets.reset(id ?? undefined), remove: () => widgets.remove(id ?? undefined) };
    },
  };
}

/** `new TencentCaptcha(appId, callback, options)` of TJCaptcha.js: `show()` opens the challenge over the page. */
type TencentCaptchaClass = new (
  appId: string,
  callback: (result: { ret: number; ticket?: string; randstr?: string; errorCode?: number }) => void,
  options: Record<string, unknown>,
) => { show(): void; destroy?(): void };

/** The button that opens Tencent's challenge, in the page's two languages (the widget draws its own text in the frame). */
const TENCENT_BUTTON = {
  'zh-CN': { open: '点击完成人机验证', done: '已完成验证' },
  en: { open: 'Tap to verify you are human', done: 'Verified' },
} as const;

/**
 * Tencent Captcha has no embedded widget: a button in the row opens its challenge, and the
 * callback's ticket and randstr go with the send as captchaToken and captchaRandstr.
 */
const tencentVendor: Vendor = {
  script: 'https://turing.captcha.qcloud.com/TJCaptcha.js',
  global: 'TencentCaptcha',
  render(api, container, options) {
    const text = options.locale === 'en' ? TENCENT_BUTTON.en : TENCENT_BUTTON['zh-CN'];
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button secondary wide';
    const showOpen = () => {
      button.textContent = text.open;
      button.removeAttribute('aria-pressed');
    };
    showOpen();
    const captcha = new (api as TencentCaptchaClass)(
      options.siteKey,
      (result) => {
        if (result.ret === 0 && result.ticket && result.randstr) {
          button.textContent = `✓ ${text.done}`;
          button.setAttribute('aria-pressed', 'true');
          options.solved({ captchaToken: result.ticket, captchaRandstr: result.randstr }, result.ticket);
        } else {
          // ret 2: closed by the person; anything else has no ticket to send.
          showOpen();
          options.cleared();
        }
      },
      { userLanguage: options.locale === 'en' ? 'en' : 'zh-cn' },
    );
    button.addEventListener('click', () => captcha.show());
    container.append(button);
    return {
      reset() {
        showOpen();
      },
      remove() {
        captcha.destroy?.();
        button.remove();
      },
    };
  },
};

/** The captcha object `initGeetest4(config, ready)` hands to `ready`. */
interface GeetestCaptchaObject {
  appendTo(target: HTMLElement): void;
  getValidate(): { lot_number: string; captcha_output: string; pass_token: string; gen_time: string } | false | undefined;
  onSuccess(handler: () => void): GeetestCaptchaObject;
  onError(handler: () => void): GeetestCaptchaObject;
  onClose?(handler: () => void): GeetestCaptchaObject;
  reset(): void;
  destroy(): void;
}
type InitGeetest4 = (config: Record<string, unknown>, ready: (captcha: GeetestCaptchaObject) => void) => void;

/** GeeTest v4 in its "float" form: its own button in the row, the challenge floating over it. */
const geetestVendor: Vendor = {
  script: 'https://static.geetest.com/v4/gt4.js',
  global: 'initGeetest4',
  render(api, container, options) {
    let captcha: GeetestCaptchaObject | undefined;
    let removed = false;
    (api as InitGeetest4)({ captchaId: options.siteKey, product: 'float', language: options.locale === 'en' ? 'eng' : 'zho' }, (ready) => {
      if (removed) return ready.destroy();
      captcha = ready;
      ready.appendTo(container);
      ready
        .onSuccess(() => {
          const result = ready.getValidate();
          if (!result) return options.cleared();
          const { lot_number, captcha_output, pass_token, gen_time } = result;
          options.solved({ geetest: { lot_number, captcha_output, pass_token, gen_time } }, lot_number);
        })
        .onError(() => options.failed());
    });
    return {
      reset: () => captcha?.reset(),
      remove() {
        removed = true;
        captcha?.destroy();
      },
    };
  },
};

const VENDORS: Record<WidgetKind, Vendor> = {
  turnstile: siteverifyVendor('https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit', 'turnstile', 300, (locale) => ({
    language: locale === 'en' ? 'en' : 'zh-cn',
  })),
  hcaptcha: siteverifyVendor('https://js.hcaptcha.com/1/api.js?render=explicit', 'hcaptcha', 303, (locale) => ({ hl: locale === 'en' ? 'en' : 'zh-CN' })),
  tencent: tencentVendor,
  geetest: geetestVendor,
};

const loaded = new Map<WidgetKind, Promise<unknown>>();

function apiOf(kind: WidgetKind): unknown {
  return (window as unknown as Record<string, unknown>)[VENDORS[kind].global];
}

/** Adds the vendor's script once per page load; every form that needs the widget waits on the same load. */
function loadVendor(kind: WidgetKind): Promise<unknown> {
  let pending = loaded.get(kind);
  if (!pending) {
    pending = new Promise<unknown>((resolve, reject) => {
      const script = document.createElement('script');
      script.src = VENDORS[kind].script;
      script.async = true;
      script.addEventListener('load', () => {
        const api = apiOf(kind);
        if (api) resolve(api);
        else reject(new Error(`${kind} script loaded without window.${VENDORS[kind].global}`));
      });
      script.addEventListener('error', () => reject(new Error(`${kind} script did not load`)));
      document.head.append(script);
    });
    // A failed load (offline, blocked) may be retried: forget it, and drop its script tag.
    pending.catch(() => {
      loaded.delete(kind);
      document.head.querySelector(`script[src="${VENDORS[kind].script}"]`)?.remove();
    });
    loaded.set(kind, pending);
  }
  return pending;
}

/** A vendor's captcha widget of one form, and the answer it last produced. */
export interface CaptchaWidgetState {
  /** Set while the widget holds an unused answer (Turnstile / hCaptcha token, Tencent ticket, GeeTest lot_number); undefined after each use. */
  readonly token: Ref<string | undefined>;
  /** The fields to send with POST /api/sms/send: captchaToken (and captchaRandstr for Tencent), or geetest. */
  readonly answer: Ref<WidgetAnswer | undefined>;
  readonly loading: Ref<boolean>;
  /** The script did not load, or the widget reported an error. */
  readonly failed: Ref<boolean>;
  /** Renders the widget into `container` (a component calls it when mounted). */
  mount(container: HTMLElement, kind: WidgetKind, siteKey: string, locale: string): Promise<void>;
  /** An answer works once: after each send that reached the server the widget must produce a new one. */
  reset(): void;
  unmount(): void;
}

export function useCaptchaWidget(): CaptchaWidgetState {
  const token = ref<string>();
  const answer = ref<WidgetAnswer>();
  const loading = ref(false);
  const failed = ref(false);
  let rendered: RenderedWidget | undefined;
  let mountCall = 0;
  const clear = () => {
    token.value = undefined;
    answer.value = undefined;
  };

  async function mount(container: HTMLElement, kind: WidgetKind, siteKey: string, locale: string): Promise<void> {
    unmount();
    const mine = ++mountCall;
    loading.value = true;
    failed.value = false;
    try {
      const api = await loadVendor(kind);
      // Unmounted or mounted again while the script loaded: that newer call renders.
      if (mine !== mountCall) return;
      rendered = VENDORS[kind].render(api, container, {
        siteKey,
        locale,
        narrow: (normalWidth) => container.clientWidth < normalWidth,
        solved(value, shortToken) {
          answer.value = value;
          token.value = shortToken;
          failed.value = false;
        },
        cleared: clear,
        failed() {
          clear();
          failed.value = true;
        },
      });
    } catch {
      if (mine === mountCall) failed.value = true;
    } finally {
      if (mine === mountCall) loading.value = false;
    }
  }

  function unmount(): void {
    mountCall++;
    clear();
    rendered?.remove();
    rendered = undefined;
  }

  function reset(): void {
    clear();
    rendered?.reset();
  }

  return { token, answer, loading, failed, mount, reset, unmount };
}
