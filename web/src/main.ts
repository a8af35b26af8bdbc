import { createApp } from 'vue';
import App from './App.vue';
import { createAppI18n, initialLocale } from './i18n.js';
import { createAppRouter } from './router.js';
import './styles.css';

createApp(App)
  .use(createAppI18n(initialLocale(window.location.search)))
  .use(createAppRouter())
  .mount('#app');
