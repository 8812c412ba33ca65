/**
 * Structured logs (pino, JSON lines on stderr). One request ID follows a
 * change end to end: the API server runs each request in `withRequestId`, so
 * every line logged on its behalf — the action, the task it starts (which
 * runs on in the same async context), the store's change log — carries it;
 * documents name the requests that changed them (document-cache.ts) and
 * agents log their applies with those IDs. `WEFT_LOG_LEVEL` (default info;
 * `silent` for none) sets the level.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

const requests = new AsyncLocalStorage<string>();

/** Runs `fn` with `requestId` as the current request (of its logs and store writes). */
export const withRequestId = <T>(requestId: string, fn: () => T): T => requests.run(requestId, fn);
/** The request this code runs for, if any. */
export const currentRequestId = (): string | undefined => requests.getStore();

const root = pino(
  {
    level: process.env.WEFT_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    mixin: () => {
      const requestId = requests.getStore();
      return requestId ? { requestId } : {};
    },
  },
  pino.destination({ fd: 2, sync: true }),
);

/** A component's logger: `logger('api')`, `logger('agent', { host: 'h1' })`. */
export const logger = (component: string, fields: Record<string, unknown> = {}): Logger => root.child({ component, ...fields });
