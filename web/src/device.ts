/** A device as a person recognises it: the browser and the system, read from a User-Agent. */
export interface Device {
  browser?: string;
  os?: string;
}

// Order matters: Edge, Opera and WeChat also say "Chrome" and "Safari"; Chrome also says "Safari".
const BROWSERS: readonly [RegExp, string][] = [
  [/MicroMessenger\//, 'WeChat'],
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
];

const SYSTEMS: readonly [RegExp, string][] = [
  [/HarmonyOS|OpenHarmony/, 'HarmonyOS'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** Only the names, never the versions: "Chrome on Android" is what tells one's devices apart. */
export function deviceOf(userAgent: string | null | undefined): Device {
  if (!userAgent) return {};
  const device: Device = {};
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser) device.browser = browser;
  if (os) device.os = os;
  return device;
}

/** The device in words, in the page's language, given its phrases ("{browser} on {os}", "Unknown device"). */
export function describeDevice(userAgent: string | null | undefined, phrase: (device: Required<Device>) => string, unknown: string): string {
  const { browser, os } = deviceOf(userAgent);
  if (browser && os) return phrase({ browser, os });
  return browser ?? os ?? unknown;
}
