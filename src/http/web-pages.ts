import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptchaKind } from '../config.js';

/** Where `vite build` puts the pages. Resolved from this file, so it holds for src/ (tsx) and dist/ (built). */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** True when the pages have been built into `root` (npm start does this; unit tests need not). */
export function hasBuiltPages(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/**
 * Origins a captcha widget loads its script and challenge frame from, as Cloudflare and hCaptcha
 * document them for a Content-Security-Policy. Allowed only when that captcha is configured.
 */
const WIDGET_SOURCES: Partial<Record<CaptchaKind, { script: string; frame: string; style?: string; connect?: string; img?: string }>> = {
  turnstile: { script: 'https://challenges.cloudflare.com', frame: 'https://challenges.cloudflare.com' },
  hcaptcha: {
    script: 'https://hcaptcha.com https://*.hcaptcha.com',
    frame: 'https://hcaptcha.com https://*.hcaptcha.com',
    style: 'https://hcaptcha.com https://*.hcaptcha.com',
    connect: 'https://hcaptcha.com https://*.hcaptcha.com',
  },
  // Tencent Captcha 2.0: TJCaptcha.js and its challenge frame from turing.captcha.qcloud.com, pictures from its gtimg CDN.
  tencent: {
    script: 'https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com',
    frame: 'https://turing.captcha.qcloud.com',
    style: 'https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com',
    connect: 'https://turing.captcha.qcloud.com',
    img: 'https://turing.captcha.qcloud.com https://turing.captcha.gtimg.com',
  },
  // GeeTest v4: gt4.js and its styles and pictures from static.geetest.com, the challenge loaded as JSONP from
  // gcaptcha4.geetest.com; the geevisit hosts are GeeTest's own fallbacks when those are blocked.
  geetest: {
    script: 'https://static.geetest.com https://gcaptcha4.geetest.com https://static.geevisit.com https://gcaptcha4.geevisit.com',
    frame: 'https://static.geetest.com',
    style: 'https://static.geetest.com https://static.geevisit.com',
    connect: 'https://gcaptcha4.geetest.com https://gcaptcha4.geevisit.com',
    img: 'https://static.geetest.com https://static.geevisit.com',
  },
};

/**
 * Headers of the page itself. A sign-in page must not be framed (clickjacking) nor run scripts
 * from elsewhere; the image captcha is a data: URL. The one exception is the widget of a
 * Turnstile, hCaptcha, Tencent Captcha or GeeTest deployment, which cannot work without its
 * vendor's script and frame: those origins are opened for that vendor only.
 */
export function pageHeaders(captcha: CaptchaKind = 'off'): Record<string, string> {
  const widget = WIDGET_SOURCES[captcha];
  const extra = (sources: string | undefined) => (sources ? ` ${sources}` : '');
  const csp = [
    "default-src 'self'",
    `img-src 'self' data:${extra(widget?.img)}`,
    `script-src 'self'${extra(widget?.script)}`,
    `style-src 'self'${extra(widget?.style)}`,
    `connect-src 'self'${extra(widget?.connect)}`,
    ...(widget ? [`frame-src ${widget.frame}`] : []),
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
  };
}

/**
 * Paths that belong to programs, never to a page: the API and its versions (`/api`, `/v2`),
 * monitoring (`/metrics`, the health checks), well-known URIs and other dot segments, and
 * anything named like a file. A scraper or a typo there must get a 404, not a 200 page. Routes
 * registered at such paths still answer: the page fallback is the router's last resort.
 */
const NOT_A_PAGE = /^\/(?:api|v\d+|metrics|healthz|readyz|docs|openapi\.json)(?:\/|$)|\/\.|\.[a-z0-9]+$/i;

/** Paths the single-page app owns: every other path, so its own router can show "not found". */
function isPageRoute(path: string): boolean {
  return !NOT_A_PAGE.test(path);
}

/**
 * Serves the built web pages from the API's origin, so the session cookie and the API need no CORS.
 * Vite names assets by content hash, so they are cached for good; index.html is revalidated on
 * every load so a deploy takes effect at once. Page routes (/register, /account, …) get
 * index.html and the client router takes over; what no route matched and is not a page
 * (isPageRoute) keeps answering the JSON not_found.
 */
export const webPages: FastifyPluginAsync<{ root: string; captcha?: CaptchaKind }> = async (app, { root, captcha }) => {
  const headers = pageHeaders(captcha);
  await app.register(fastifyStatic, {
    root,
    // One route per built file instead of a catch-all, so /healthz, /docs and /api/* stay as they are.
    wildcard: false,
    // Off so that send's own Cache-Control does not overwrite the one set below.
    cacheControl: false,
    setHeaders(res, path) {
      if (path.includes(`${join(root, 'assets')}`)) {
        res.setHeader('cache-control', 'public, max-age=31536000, immutable');
        return;
      }
      res.setHeader('cache-control', 'no-cache');
      if (path.endsWith('.html')) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    },
  });

  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (!isPageRoute(path)) return reply.callNotFound();
    return reply.sendFile('index.html');
  });
};
