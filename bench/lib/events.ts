/**
 * Waiting for a condition that events make true (agents' reports arriving):
 * `notify()` after each event; `until(done, ms)` resolves true as soon as
 * `done()` holds (checked at once and after each event: keep it O(1)), or
 * false after `ms`. One waiter at a time.
 */
export function eventWaiter() {
  let onEvent = () => {};
  return {
    notify: () => onEvent(),
    until: (done: () => boolean, timeoutMs: number) =>
      new Promise<boolean>((ok) => {
        if (done()) return ok(true);
        const timer = setTimeout(() => ((onEvent = () => {}), ok(false)), timeoutMs);
        onEvent = () => {
          if (done()) {
            clearTimeout(timer);
            onEvent = () => {};
            ok(true);
          }
        };
      }),
  };
}
