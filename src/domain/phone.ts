import { getCountries, getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { AppError } from './errors.js';

/** A phone number in E.164 form, e.g. "+8613800138000". */
export type E164 = string & { readonly __brand: 'E164' };

/**
 * Parses what a person typed ("13800138000", "+86 138 0013 8000", "+8613800138000") into E.164.
 * Uses the full metadata so that "mobile" really means mobile: landlines, short codes and
 * malformed numbers all get `invalid_phone`.
 */
export function normalizePhone(input: string, defaultRegion: string): E164 {
  const trimmed = input.trim();
  // libphonenumber tolerates letters (vanity numbers) and extensions; an SMS target has neither.
  if (trimmed.length === 0 || trimmed.length > 32 || !/^\(?\+?[\d\s().-]+$/.test(trimmed)) {
    throw new AppError('invalid_phone', { field: 'phone' });
  }
  const parsed = parsePhoneNumberFromString(trimmed, defaultRegion as CountryCode);
  if (!parsed || !parsed.isValid()) throw new AppError('invalid_phone', { field: 'phone' });
  const type = parsed.getType();
  // Some regions (e.g. the US) cannot tell mobile from fixed lines by number alone.
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') {
    throw new AppError('invalid_phone', { field: 'phone' });
  }
  return parsed.number as E164;
}

/** The two-letter region of an E.164 number, e.g. "CN". */
export function phoneRegion(phone: E164): string | undefined {
  return parsePhoneNumberFromString(phone)?.country;
}

/**
 * Hides the middle of a number for logs and pages: "+8613800138000" -> "+86138****8000".
 * Keeps the country code, the first three and the last four national digits.
 */
export function maskPhone(phone: string): string {
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed) return phone.length > 4 ? `****${phone.slice(-4)}` : '****';
  const national = String(parsed.nationalNumber);
  const head = national.length > 7 ? national.slice(0, 3) : '';
  const tail = national.slice(-4);
  return `+${parsed.countryCallingCode}${head}****${tail}`;
}

/**
 * The block a number belongs to, for the per-prefix SMS cap: "+" country code and the first
 * `digits` national digits ("+861380013" for 7). SMS pumping walks ranges of consecutive
 * numbers, which all share such a prefix.
 */
export function phonePrefix(phone: E164, digits: number): string {
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed) return phone.slice(0, 1 + digits);
  return `+${parsed.countryCallingCode}${String(parsed.nationalNumber).slice(0, digits)}`;
}

/**
 * The regions SMS may go to with their calling codes, for the pages' country picker: the
 * allow-list in its own order, or every region the metadata knows for '*'. Unknown codes are left out.
 */
export function allowedRegionsWithCallingCodes(allowed: readonly string[] | '*'): { region: string; callingCode: string }[] {
  const regions = allowed === '*' ? getCountries() : allowed;
  return regions.flatMap((region) =>
    isSupportedCountry(region) ? [{ region, callingCode: getCountryCallingCode(region as CountryCode) }] : [],
  );
}
