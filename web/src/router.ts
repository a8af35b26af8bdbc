import { createRouter, createWebHistory } from 'vue-router';
import type { MessageSchema } from './locales/zh-CN.js';
import AccountPage from './pages/AccountPage.vue';
import LoginPage from './pages/LoginPage.vue';
import NotFoundPage from './pages/NotFoundPage.vue';
import RegisterPage from './pages/RegisterPage.vue';
import ResetPage from './pages/ResetPage.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Key under `titles` for the document title. */
    title: keyof MessageSchema['titles'];
  }
}

/** Every end-user page is in the one bundle: it is small, and a sign-in page should not wait on a second request. The paths are part of the contract (README, tests): /register, /login, /reset, /account. */
export function createAppRouter() {
  return createRouter({
    history: createWebHistory(),
    routes: [
      // Signed in, the start page is the account; signed out, the account page sends the person to sign in.
      { path: '/', redirect: '/account' },
      { path: '/register', component: RegisterPage, meta: { title: 'register' } },
      { path: '/login', component: LoginPage, meta: { title: 'login' } },
      { path: '/reset', component: ResetPage, meta: { title: 'reset' } },
      { path: '/account', component: AccountPage, meta: { title: 'account' } },
      // The console is its own chunk: ECharts is several times the size of every other page together,
      // and only operators need it.
      {
        path: '/admin',
        component: () => import('./admin/AdminLayout.vue'),
        meta: { title: 'admin' },
        children: [
          { path: '', component: () => import('./admin/AdminOverview.vue'), meta: { title: 'admin' } },
          { path: 'messages', component: () => import('./admin/AdminMessages.vue'), meta: { title: 'admin' } },
          { path: 'users', component: () => import('./admin/AdminUsers.vue'), meta: { title: 'admin' } },
          { path: 'fraud-guard', component: () => import('./admin/AdminFraudGuard.vue'), meta: { title: 'admin' } },
          { path: 'verify-api', component: () => import('./admin/AdminVerifyApi.vue'), meta: { title: 'admin' } },
          { path: 'webhooks', component: () => import('./admin/AdminWebhooks.vue'), meta: { title: 'admin' } },
        ],
      },
      { path: '/:unknown(.*)*', component: NotFoundPage, meta: { title: 'notFound' } },
    ],
  });
}
