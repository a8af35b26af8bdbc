import { getCountries, getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import { AppError } from './errors.js';

/** A phone number in E.164 form, e.g. "+8613800138000". */
export type E164 = string & { readonly __brand: 'E164' };

/** What the region, the prefix and the mask of a number need: one parse gives all three. */
interface PhoneFacts {
  readonly region: string | undefined;
  readonly callingCode: string;
  readonly national: string;
}

/**
 * The facts of recently normalized numbers, so that the region check, the per-prefix limit and
 * every masked log line of a request reuse normalizePhone's parse instead of parsing the number
 * again (libphonenumber's parse was about a tenth of a send's CPU, most of it repeats). Bounded:
 * a flood of fresh numbers only pushes the oldest out (insertion order).
 */
const recent = new Map<string, PhoneFacts>();
const RECENT_KEPT = 4096;

function remember(parsed: PhoneNumber): PhoneFacts {
  const facts = { region: parsed.country, callingCode: String(parsed.countryCallingCode), national: String(parsed.nationalNumber) };
  if (recent.size >= RECENT_KEPT) recent.delete(recent.keys().next().value!);
  recent.set(parsed.number, facts);
  return facts;
}

/** The facts of an E.164 number: remembered, or parsed now (and remembered when the input is E.164). */
function factsOf(phone: string): PhoneFacts | undefined {
  const known = recent.get(phone);
  if (known) return known;
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed) return undefined;
  return parsed.number === phone ? remember(parsed) : { region: parsed.country, callingCode: String(parsed.countryCallingCode), national: String(parsed.nationalNumber) };
}

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
  remember(parsed);
  return parsed.number as E164;
}

/** The two-letter region of an E.164 number, e.g. "CN". */
export function phoneRegion(phone: E164): string | undefined {
  return factsOf(phone)?.region;
}

/**
 * Hides the middle of a number for logs and pages: "+8613800138000" -> "+86138****8000".
 * Keeps the country code, the first three and the last four national digits.
 */
export function maskPhone(phone: string): string {
  const facts = factsOf(phone);
  if (!facts) return phone.length > 4 ? `****${phone.slice(-4)}` : '****';
  const { national } = facts;
  const head = national.length > 7 ? national.slice(0, 3) : '';
  const tail = national.slice(-4);
  return `+${facts.callingCode}${head}****${tail}`;
}

/**
 * The block a number belongs to, for the per-prefix SMS cap: "+" country code and the first
 * `digits` national digits ("+861380013" for 7). SMS pumping walks ranges of consecutive
 * numbers, which all share such a prefix.
 */
export function phonePrefix(phone: E164, digits: number): string {
  const facts = factsOf(phone);
  if (!facts) return phone.slice(0, 1 + digits);
  return `+${facts.callingCode}${facts.national.slice(0, digits)}`;
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
