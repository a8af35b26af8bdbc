import { z } from 'zod';
import type { SmsProviderName } from '../config.js';
import { phoneRegion, type E164 } from '../domain/phone.js';
import { SmsSendError, type SmsProvider } from './provider.js';

/** One entry of SMS_ROUTES: the regions it covers (`*` for every region no other route names) and its providers in order. */
export interface SmsRoute {
  readonly regions: readonly string[] | '*';
  readonly providers: readonly SmsProviderName[];
}

/**
 * `SMS_ROUTES`, e.g. `CN=tencent,aliyun;*=twilio`: routes separated by `;`, each a comma list of
 * two-letter regions (or `*`), `=`, and a comma list of providers tried in order.
 */
export function smsRoutesSetting(providerNames: readonly string[]) {
  return z
    .string()
    .transform((raw, ctx): readonly SmsRoute[] => {
      const routes: SmsRoute[] = [];
      const seen = new Set<string>();
      const problem = (message: string) => {
        ctx.addIssue({ code: 'custom', message: `${message}; write it like CN=tencent,aliyun;*=twilio` });
        return [];
      };
      for (const entry of raw.split(';').map((s) => s.trim()).filter(Boolean)) {
        const [left = '', right, ...rest] = entry.split('=');
        if (right === undefined || rest.length > 0) return problem(`"${entry}" is not REGIONS=PROVIDERS`);
        const regionList = left.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        const providers = right.split(',').map((s) => s.trim()).filter(Boolean);
        const badRegion = regionList.find((r) => r !== '*' && !/^[A-Z]{2}$/.test(r));
        if (regionList.length === 0 || badRegion !== undefined || (regionList.includes('*') && regionList.length > 1)) {
          return problem(`"${left}" is not a comma list of two-letter regions, nor *`);
        }
        const badProvider = providers.find((p) => !providerNames.includes(p));
        if (providers.length === 0 || badProvider !== undefined) return problem(`"${right}" is not a comma list of ${providerNames.join(', ')}`);
        if (new Set(providers).size !== providers.length) return problem(`"${entry}" names a provider twice`);
        const twice = regionList.find((r) => seen.has(r));
        if (twice) return problem(`${twice} has two routes`);
        for (const r of regionList) seen.add(r);
        routes.push(Object.freeze({ regions: regionList[0] === '*' ? '*' : Object.freeze(regionList), providers: Object.freeze(providers as SmsProviderName[]) }));
      }
      if (routes.length === 0) return problem('names no route');
      return Object.freeze(routes);
    })
    .optional();
}

/** The route a region takes: the one that names it, else the `*` route, else none. */
export function routeFor<R extends { readonly regions: readonly string[] | '*' }>(routes: readonly R[], region: string | undefined): R | undefined {
  return (region === undefined ? undefined : routes.find((r) => r.regions !== '*' && r.regions.includes(region))) ?? routes.find((r) => r.regions === '*');
}

/**
 * The regions SMS can go to: SMS_ALLOWED_COUNTRIES narrowed to those a route covers, so a
 * destination without a route is refused as region_not_allowed before a captcha, a limit or a
 * provider is spent on it.
 */
export function reachableRegions(allowed: readonly string[] | '*', routes: readonly SmsRoute[] | undefined): readonly string[] | '*' {
  if (!routes || routes.some((r) => r.regions === '*')) return allowed;
  const named = routes.flatMap((r) => r.regions as readonly string[]);
  return Object.freeze(allowed === '*' ? named : allowed.filter((r) => named.includes(r)));
}

/**
 * The regions a route may actually send to once SMS_ALLOWED_COUNTRIES and the other routes are
 * taken into account: `*` when it is the catch-all and every region is allowed.
 */
export function regionsOfRoute(route: SmsRoute, routes: readonly SmsRoute[], allowed: readonly string[] | '*'): readonly string[] | '*' {
  if (route.regions !== '*') return allowed === '*' ? route.regions : route.regions.filter((r) => allowed.includes(r));
  if (allowed === '*') return '*';
  const named = routes.flatMap((r) => (r.regions === '*' ? [] : r.regions));
  return allowed.filter((r) => !named.includes(r));
}

/**
 * Sends each message through the route of its destination's region (SMS_ROUTES). Each route is its
 * own failover chain with its own breakers: a provider can be healthy for one destination and
 * failing for another (an international template not yet approved, a country it does not reach).
 */
export function routedSmsProvider(routes: readonly { readonly regions: readonly string[] | '*'; readonly provider: SmsProvider }[]) {
  if (routes.length === 0) throw new Error('routedSmsProvider needs at least one route');
  return {
    name: routes.map((r) => `${r.regions === '*' ? '*' : r.regions.join(',')}=${r.provider.name}`).join(';'),
    ...(routes.every((r) => r.provider.sendsNotices === false) ? { sendsNotices: false } : {}),
    async send(message, signal) {
      const route = routeFor(routes, phoneRegion(message.to as E164));
      // The service refuses such numbers as region_not_allowed before it gets here.
      if (!route) throw new SmsSendError('rejected', 'no SMS_ROUTES route covers this destination');
      return route.provider.send(message, signal);
    },
  } satisfies SmsProvider;
}
