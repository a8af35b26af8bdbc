/**
 * Counters that make abuse expensive. The domain asks a `RateLimit` whether one more use of a
 * key is allowed; it never learns where the counters live (memory, the SQLite file, Redis).
 *
 * Times are epoch milliseconds passed in by the caller, so a fake clock moves the windows in tests.
 */

export type { LimitDecision, Limits, RateLimit } from '../domain/ports.js';
