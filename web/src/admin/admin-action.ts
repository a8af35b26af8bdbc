import { ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { ApiError } from '../api.js';

/**
 * An operator's action on a console page: clears the last notice and error, runs, and shows a
 * refusal of the API in the page's language instead of throwing it.
 */
export function useAdminAction() {
  const { t } = useI18n();
  const notice = ref('');
  const error = ref('');
  async function run(action: () => Promise<void>): Promise<void> {
    error.value = '';
    notice.value = '';
    try {
      await action();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      error.value = t(`errors.${err.failure.kind === 'api' ? err.failure.error.code : 'unreachable'}`);
    }
  }
  return { notice, error, run };
}
