import type { HostDocument } from './host-document.js';

/**
 * Compiled host documents, in the order of `hostIds` (undefined: no such
 * host). Inside a controller this is the cache the agents are served from
 * (controller/distribution.ts), so the tracer reads what the agents are sent,
 * without compiling every host on every call.
 */
export type DocumentSource = (hostIds: readonly string[]) => Promise<(HostDocument | undefined)[]>;
