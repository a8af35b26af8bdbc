import { computed, ref } from 'vue';
import { ApiError, api, type ApiFailure, type PublicConfigResponse } from '../api.js';

// Loaded once per page load and shared: every form asks the same question (is the captcha on?).
const config = ref<PublicConfigResponse>();
const failure = ref<ApiFailure>();
let pending: Promise<void> | undefined;

async function load(): Promise<void> {
  failure.value = undefined;
  try {
    config.value = await api.config();
  } catch (err) {
    failure.value = err instanceof ApiError ? err.failure : { kind: 'unreachable' };
    pending = undefined;
  }
}

/** The server's public settings (GET /api/config): captcha on or off, code length, default region. */
export function useServerConfig() {
  pending ??= load();
  return {
    config,
    failure,
    /** Undefined until the answer arrives, so a form does not flash a captcha the server turned off. */
    captchaOn: computed(() => (config.value ? config.value.captcha === 'image' : undefined)),
    /** Which captcha guards a send; undefined until the answer arrives. */
    captchaKind: computed(() => config.value?.captcha),
    captchaSiteKey: computed(() => config.value?.captchaSiteKey ?? ''),
    codeLength: computed(() => config.value?.codeLength ?? 6),
    defaultRegion: computed(() => config.value?.defaultRegion ?? 'CN'),
    /** The regions SMS may go to, for the country picker; empty until the answer arrives. */
    countries: computed(() => config.value?.countries ?? []),
    reload: () => (pending = load()),
  };
}
