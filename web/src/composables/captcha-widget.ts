import { ref, type Ref } from 'vue';
import type { PublicConfigResponse } from '../api.js';

export type WidgetKind = Extract<PublicConfigResponse['captcha'], 'turnstile' | 'hcaptcha'>;
export const isWidgetKind = (kind: PublicConfigResponse['captcha'] | undefined): kind is WidgetKind => kind === 'turnstile' || kind === 'hcaptcha';

/** The part of `window.turnstile` and `window.hcaptcha` the pages use; both vendors offer these three calls. */
interface WidgetApi {
  render(container: HTMLElement, options: Record<string, unknown>): string | number | null | undefined;
  reset(id?: string | number): void;
  remove(id?: string | number): void;
}

/**
 * Each vendor's script in explicit mode (the page decides when and where to render), and the
 * render option that sets the widget's language. The page's CSP allows these origins only when
 * the server runs that captcha (src/http/web-pages.ts). Tests intercept these URLs and answer a
 * small fake, so no override is built into the page.
 */
const VENDORS: Record<
  WidgetKind,
  { script: string; global: WidgetKind; language: (locale: string) => Record<string, string>; normalWidth: number }
> = {
  turnstile: {
    script: 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit',
    global: 'turnstile',
    normalWidth: 300,
    language: (locale) => ({ language: locale === 'en' ? 'en' : 'zh-cn' }),
  },
  hcaptcha: {
    script: 'https://js.hcaptcha.com/1/api.js?render=explicit',
    global: 'hcaptcha',
    normalWidth: 303,
    language: (locale) => ({ hl: locale === 'en' ? 'en' : 'zh-CN' }),
  },
};

const loaded = new Map<WidgetKind, Promise<WidgetApi>>();

function apiOf(kind: WidgetKind): WidgetApi | undefined {
  return (window as unknown as Record<string, WidgetApi | undefined>)[VENDORS[kind].global];
}

/** Adds the vendor's script once per page load; every form that needs the widget waits on the same load. */
function loadVendor(kind: WidgetKind): Promise<WidgetApi> {
  let pending = loaded.get(kind);
  if (!pending) {
    pending = new Promise<WidgetApi>((resolve, reject) => {
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

/** A Turnstile or hCaptcha widget of one form, and the token it last produced. */
export interface CaptchaWidgetState {
  /** The token to send as `captchaToken`; undefined until the widget is solved, and after each use. */
  readonly token: Ref<string | undefined>;
  readonly loading: Ref<boolean>;
  /** The script did not load, or the widget reported an error. */
  readonly failed: Ref<boolean>;
  /** Renders the widget into `container` (a component calls it when mounted). */
  mount(container: HTMLElement, kind: WidgetKind, siteKey: string, locale: string): Promise<void>;
  /** A token works once: after each send that reached the server the widget must produce a new one. */
  reset(): void;
  unmount(): void;
}

export function useCaptchaWidget(): CaptchaWidgetState {
  const token = ref<string>();
  const loading = ref(false);
  const failed = ref(false);
  let rendered: { api: WidgetApi; id: string | number | null | undefined } | undefined;
  let mountCall = 0;

  async function mount(container: HTMLElement, kind: WidgetKind, siteKey: string, locale: string): Promise<void> {
    unmount();
    const mine = ++mountCall;
    loading.value = true;
    failed.value = false;
    try {
      const api = await loadVendor(kind);
      // Unmounted or mounted again while the script loaded: that newer call renders.
      if (mine !== mountCall) return;
      const id = api.render(container, {
        sitekey: siteKey,
        // The normal widget is a fixed 300 px: on a 360 px phone the card is narrower, so the compact one fits instead.
        size: container.clientWidth < VENDORS[kind].normalWidth ? 'compact' : 'normal',
        ...VENDORS[kind].language(locale),
        callback: (value: string) => {
          token.value = value;
          failed.value = false;
        },
        'expired-callback': () => (token.value = undefined),
        'error-callback': () => {
          token.value = undefined;
          failed.value = true;
          // Turnstile: a truthy answer says the page handled the error, so the widget does not throw it.
          return true;
        },
      });
      rendered = { api, id };
    } catch {
      if (mine === mountCall) failed.value = true;
    } finally {
      if (mine === mountCall) loading.value = false;
    }
  }

  function unmount(): void {
    mountCall++;
    token.value = undefined;
    if (rendered) rendered.api.remove(rendered.id ?? undefined);
    rendered = undefined;
  }

  function reset(): void {
    token.value = undefined;
    if (rendered) rendered.api.reset(rendered.id ?? undefined);
  }

  return { token, loading, failed, mount, reset, unmount };
}
