import { ref, watch, type Ref } from 'vue';
import { ApiError, api, type ApiFailure } from '../api.js';

/** The image captcha of one form: the picture, its id and the answer being typed. */
export interface CaptchaState {
  readonly id: Ref<string | undefined>;
  readonly image: Ref<string | undefined>;
  readonly answer: Ref<string>;
  readonly loading: Ref<boolean>;
  readonly failure: Ref<ApiFailure | undefined>;
  /** A new picture and an empty answer. Each captcha works once, so every send that reached it needs a new one. */
  refresh(): Promise<void>;
}

export function useCaptcha(enabled: Readonly<Ref<boolean | undefined>>): CaptchaState {
  const id = ref<string>();
  const image = ref<string>();
  const answer = ref('');
  const loading = ref(false);
  const failure = ref<ApiFailure>();
  let request = 0;

  async function refresh(): Promise<void> {
    if (!enabled.value) return;
    // Clicking the picture twice quickly must show the newest captcha, not whichever answer lands last.
    const mine = ++request;
    loading.value = true;
    answer.value = '';
    try {
      const next = await api.captcha();
      if (mine !== request) return;
      id.value = next.captchaId;
      image.value = next.image;
      failure.value = undefined;
    } catch (err) {
      if (mine !== request) return;
      failure.value = err instanceof ApiError ? err.failure : { kind: 'unreachable' };
    } finally {
      if (mine === request) loading.value = false;
    }
  }

  watch(enabled, (on) => void (on && !id.value && refresh()), { immediate: true });
  return { id, image, answer, loading, failure, refresh };
}
