// The real clock: wall time and Node timers that do not keep the process alive.
import type { Clock } from './types.ts';

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    // A pending session or rebalance timer must not hold a broker process open after close.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
