import { onScopeDispose, readonly, ref, type Ref } from 'vue';

/** The clock a countdown reads; tests pass fake timers through the defaults. */
export interface CountdownClock {
  now(): number;
  setInterval(tick: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const systemClock: CountdownClock = {
  now: () => Date.now(),
  setInterval: (tick, ms) => globalThis.setInterval(tick, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>),
};

export interface Countdown {
  /** Whole seconds left, 0 when idle. */
  readonly remaining: number;
  /** (Re)starts from `seconds`; 0 or less stops it. */
  start(seconds: number): void;
  stop(): void;
}

/**
 * Counts down whole seconds to a deadline and reports each change.
 *
 * The remaining time is computed from the deadline on every tick rather than decremented, so a
 * throttled background tab or a slow tick never makes the button open later than the server allows.
 */
export function createCountdown(onChange: (remaining: number) => void, clock: CountdownClock = systemClock): Countdown {
  let deadline = 0;
  let remaining = 0;
  let handle: unknown;

  const update = () => {
    const next = Math.max(0, Math.ceil((deadline - clock.now()) / 1000));
    if (next !== remaining) {
      remaining = next;
      onChange(remaining);
    }
    if (remaining === 0) stop();
  };

  function stop(): void {
    if (handle !== undefined) clock.clearInterval(handle);
    handle = undefined;
  }

  return {
    get remaining() {
      return remaining;
    },
    start(seconds) {
      stop();
      deadline = clock.now() + Math.max(0, seconds) * 1000;
      update();
      // Four ticks a second: the label changes within 250 ms of the real second boundary.
      if (remaining > 0) handle = clock.setInterval(update, 250);
    },
    stop() {
      stop();
      deadline = 0;
      update();
    },
  };
}

/** A countdown as a Vue ref, stopped when the component that made it goes away. */
export function useCountdown(): { remaining: Readonly<Ref<number>>; start(seconds: number): void; stop(): void } {
  const remaining = ref(0);
  const countdown = createCountdown((value) => (remaining.value = value));
  onScopeDispose(() => countdown.stop());
  return { remaining: readonly(remaining), start: (s) => countdown.start(s), stop: () => countdown.stop() };
}
