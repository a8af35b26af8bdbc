import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/** Builds the pages into web/dist, which the API server serves at `/` (src/http/web-pages.ts). */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [vue()],
  // Compile-time flags of Vue and vue-i18n: drop what the pages do not use (Options API, legacy i18n, devtools).
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    // `npm run dev:web` next to `npm run dev`: the API stays on its own port, the page calls it through this proxy.
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
