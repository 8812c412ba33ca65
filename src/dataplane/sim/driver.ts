/**
 * The sim driver: the data plane without a kernel. What it applied is its
 * host's state — kept in a file when given one (`DATA_DIR/sim/<host>.json`
 * in a region in a box), so like the kernel's it outlives the agent: a
 * restarted agent adopts it (an unchanged document is then no change), and
 * while an agent is down its host keeps acting on what it last applied.
 * `weft trace --applied` and `weft reach --applied` interpret these files,
 * the sim counterpart of probing real namespaces.
 *
 * It keeps any document whole, whatever it holds: a gateway node's (role
 * gateway: EIP pairs, NAT contexts) as a host's (routes of kind nat, the
 * natGateway and publicGateway it sends to). What a packet meets is the
 * tracer's to say (src/trace), so the sim data plane and the tracer cannot
 * disagree about the gateways: one interpreter, one set of stages.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { HostDocument } from '../../contract/host-document.js';

export class SimDriver {
  document: HostDocument | undefined;

  constructor(private readonly stateFile?: string) {
    if (stateFile && existsSync(stateFile)) this.document = JSON.parse(readFileSync(stateFile, 'utf8')) as HostDocument;
  }

  async apply(doc: HostDocument): Promise<{ changes: number }> {
    // Compared as values, which stops at the first difference (the revision, mostly): a document may run to megabytes.
    const changed = !isDeepStrictEqual(this.document, doc);
    if (changed && this.stateFile) {
      // Whole or not at all, as an nft -f transaction: a reader never sees half a document.
      mkdirSync(dirname(this.stateFile), { recursive: true });
      writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(doc));
      renameSync(`${this.stateFile}.tmp`, this.stateFile);
    }
    this.document = doc;
    return { changes: changed ? 1 : 0 };
  }
}

/** Every host's applied document in a sim state directory, by host ID order. */
export function readSimState(dir: string): HostDocument[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as HostDocument);
}
