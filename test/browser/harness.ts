import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { vi } from 'vitest';

/** Debian's Chromium (`apt-get install chromium`); the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots', import.meta.url));

/**
 * Whether the browser tests can run here. Without Chromium they are skipped with the reason
 * printed, except in CI (CI=true), where a missing browser is a broken setup and fails.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `${CHROMIUM} is missing: install it with "apt-get install chromium"`;
  if (process.env.CI === 'true') throw new Error(`browser tests cannot run in CI: ${reason}`);
  process.stdout.write(`skipping the browser tests: ${reason}\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Playwright adds --headless and a fresh --user-data-dir itself; the rest keeps Chromium off the network and quiet.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh profile (no cookies, no remembered language) with a 360 px phone screen. */
export async function phoneContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 360, height: 760 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
}

/**
 * Collects what would make a page broken for a person: uncaught exceptions and console errors
 * other than the browser's own note about a 4xx/5xx response (which the pages expect and show).
 */
export function watchForPageErrors(page: Page): () => string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
  });
  return () => problems;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

interface OutboxLine {
  to: string;
  text: string;
  purpose: string;
}

/** The console provider's outbox file: the person's phone, for the tests. */
export function outbox(file: string) {
  const lines = (): OutboxLine[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as OutboxLine)
      : [];
  const messagesTo = (phone: string, purpose: string) => lines().filter((l) => l.to === phone && l.purpose === purpose);
  return {
    count: (phone: string, purpose: string) => messagesTo(phone, purpose).length,
    /** The texts of the SMS to `phone` for `purpose`, oldest first. */
    texts: (phone: string, purpose: string) => messagesTo(phone, purpose).map((l) => l.text),
    /** Waits for SMS number `index` (0-based) to `phone` for `purpose` and returns its code. */
    async code(phone: string, purpose: string, index = 0): Promise<string> {
      return vi.waitFor(
        () => {
          const text = messagesTo(phone, purpose)[index]?.text ?? '';
          // The SMS is in the language of the page that asked for it.
          const match = /验证码是(\d+)|code is (\d+)/.exec(text);
          const code = match?.[1] ?? match?.[2];
          if (!code) throw new Error(`no ${purpose} SMS #${index} to ${phone} yet`);
          return code;
        },
        { timeout: 10_000, interval: 50 },
      );
    },
  };
}
