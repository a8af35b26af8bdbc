import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope } from 'vue';
import { createCountdown, useCountdown } from './countdown.js';

describe('the resend countdown', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 0, 1));
  });
  afterEach(() => vi.useRealTimers());

  it('starts at resendAfter, reports every second down to 0, then stops ticking', () => {
    const seen: number[] = [];
    const countdown = createCountdown((s) => seen.push(s));
    countdown.start(3);
    expect(countdown.remaining).toBe(3);
    vi.advanceTimersByTime(1000);
    expect(countdown.remaining).toBe(2);
    vi.advanceTimersByTime(2000);
    expect(countdown.remaining).toBe(0);
    expect(seen).toEqual([3, 2, 1, 0]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows the deadline, not the number of ticks, when the tab was throttled', () => {
    const countdown = createCountdown(() => {});
    countdown.start(60);
    // Time passes without any tick running, as in a background tab.
    vi.setSystemTime(Date.now() + 45_500);
    vi.advanceTimersByTime(250);
    expect(countdown.remaining).toBe(15);
  });

  it('never opens early: 59.1 s left still shows 60', () => {
    const countdown = createCountdown(() => {});
    countdown.start(60);
    vi.advanceTimersByTime(900);
    expect(countdown.remaining).toBe(60);
    vi.advanceTimersByTime(100);
    expect(countdown.remaining).toBe(59);
  });

  it('restarting replaces the running countdown instead of adding a second timer', () => {
    const countdown = createCountdown(() => {});
    countdown.start(10);
    countdown.start(5);
    expect(vi.getTimerCount()).toBe(1);
    expect(countdown.remaining).toBe(5);
  });

  it('start(0) and stop() leave it idle at 0 with no timer', () => {
    const seen: number[] = [];
    const countdown = createCountdown((s) => seen.push(s));
    countdown.start(0);
    expect(countdown.remaining).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    countdown.start(30);
    countdown.stop();
    expect(countdown.remaining).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(seen).toEqual([30, 0]);
  });

  it('useCountdown exposes a ref and clears its timer when its component goes away', () => {
    const scope = effectScope();
    const countdown = scope.run(() => useCountdown())!;
    countdown.start(60);
    vi.advanceTimersByTime(2000);
    expect(countdown.remaining.value).toBe(58);
    scope.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
