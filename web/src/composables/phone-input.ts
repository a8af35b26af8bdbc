import { computed, ref } from 'vue';
import { phoneForServer } from '../phone-display.js';
import { useServerConfig } from './server-config.js';

/**
 * A phone input with its country picker: what the person typed, the region picked (the server's
 * DEFAULT_REGION until another is chosen), and the number as the server should get it.
 */
export function usePhoneInput(initial = '') {
  const server = useServerConfig();
  const typed = ref(initial);
  const picked = ref<string>();
  const region = computed({
    get: () => picked.value ?? server.defaultRegion.value,
    set: (value: string) => (picked.value = value),
  });
  const full = computed(() => phoneForServer(typed.value, region.value, server.defaultRegion.value, server.countries.value));
  return { typed, region, full };
}
