/**
 * Calling codes of the regions a deployment is likely to set as DEFAULT_REGION. Shown as the
 * prefix of the phone input; a region not listed shows no prefix and the input still works
 * (the server parses national numbers in its own default region).
 */
const CALLING_CODES: Readonly<Record<string, string>> = {
  CN: '86',
  HK: '852',
  MO: '853',
  TW: '886',
  SG: '65',
  MY: '60',
  JP: '81',
  KR: '82',
  US: '1',
  CA: '1',
  GB: '44',
  AU: '61',
  DE: '49',
  FR: '33',
  IN: '91',
};

/** "+86" for "CN", or undefined when the region is not in the list. */
export function callingCodePrefix(region: string): string | undefined {
  const code = CALLING_CODES[region.toUpperCase()];
  return code === undefined ? undefined : `+${code}`;
}

/**
 * The signed-in number as the account page shows it: the middle digits hidden, as Chinese apps do.
 * A +86 number reads nationally (138****8000); any other keeps its first digits and country code (+4477****0123).
 *
 * @example maskPhone('+8613800138000') // '138****8000'
 */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  if (digits.startsWith('86') && digits.length === 13) {
    const national = digits.slice(2);
    return `${national.slice(0, 3)}****${national.slice(-4)}`;
  }
  if (digits.length <= 7) return e164;
  return `+${digits.slice(0, 4)}****${digits.slice(-4)}`;
}

/**
 * A number the server masked (+86138****8000, in audit events) the way the account page shows the
 * person's own: a mainland number reads nationally, any other stays as the server wrote it.
 *
 * @example displayMasked('+86138****8000') // '138****8000'
 */
export function displayMasked(masked: string): string {
  return /^\+86(1\d{2}\*{4}\d{4})$/.exec(masked)?.[1] ?? masked;
}

/** A region the server sends SMS to, with its calling code (GET /api/config `countries`). */
export interface CallingRegion {
  region: string;
  callingCode: string;
}

/**
 * The number to send to the server for what the person typed with the picked region. The server
 * reads national numbers in its own default region, so those go as typed; a number starting with
 * + names its own country; for another picked region the calling code goes in front, without the
 * national trunk 0 ("07700 900123" in GB is +447700900123).
 *
 * @example phoneForServer('2025550123', 'US', 'CN', [{ region: 'US', callingCode: '1' }]) // '+12025550123'
 */
export function phoneForServer(typed: string, region: string, defaultRegion: string, regions: readonly CallingRegion[]): string {
  const trimmed = typed.trim();
  if (!trimmed || trimmed.startsWith('+') || region === defaultRegion) return trimmed;
  const callingCode = regions.find((r) => r.region === region)?.callingCode;
  if (!callingCode) return trimmed;
  return `+${callingCode}${trimmed.replace(/[\s().-]/g, '').replace(/^0/, '')}`;
}

/** "China" / "中国" for "CN" in the page's language; the code itself where the browser has no name for it. */
export function regionName(region: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'region' }).of(region) ?? region;
  } catch {
    return region;
  }
}
