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
 *
 * Its two tiers, as the Linux driver's (docs/reconcile.md): `apply` compares
 * with the document it holds in memory; `audit` reads the state file back
 * and compares it with the document VPC by VPC (their digests), rewriting it
 * when anything differs — a file edited or removed by hand is drift.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { HostDocument } from '../../contract/host-document.js';
import type { AuditOutcome, Repair } from '../../agent/reconcile-loop.js';
import { vpcDigests } from '../../core/document-digests.js';

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

  /** Reads the state back (the file; without one, memory) and repairs what differs from `doc`, VPC by VPC. */
  async audit(doc: HostDocument): Promise<AuditOutcome> {
    let held: HostDocument | undefined = this.document;
    let unreadable: string | undefined;
    if (this.stateFile) {
      try {
        held = existsSync(this.stateFile) ? (JSON.parse(readFileSync(this.stateFile, 'utf8')) as HostDocument) : undefined;
      } catch (e) {
        held = undefined;
        unreadable = e instanceof Error ? e.message : String(e);
      }
    }
    const repairs = simDrift(held, doc, this.stateFile ?? null, unreadable);
    if (repairs.length) {
      this.document = undefined; // written again whole
      await this.apply(doc);
    }
    return { changes: repairs.length, repairs };
  }
}

/** What differs between the state a sim host holds and its document: per VPC, and the document's own fields. */
export function simDrift(held: HostDocument | undefined, doc: HostDocument, where: string | null, unreadable?: string): Repair[] {
  const r = (vpcId: string, what: string): Repair => ({ vpcId, ns: where, kind: 'sim-state', what, repaired: true });
  if (!held) return [r('(host)', unreadable ? `state unreadable (${unreadable}): written again` : 'state missing: written again')];
  const want = vpcDigests(doc);
  const have = vpcDigests(held);
  const out: Repair[] = [];
  const { vpcs: _a, revision: _b, ...wantHead } = doc;
  const { vpcs: _c, revision: _d, ...haveHead } = held;
  if (!isDeepStrictEqual(wantHead, haveHead)) out.push(r('(host)', "the host's own settings differed"));
  for (const [id, d] of want) if (have.get(id) !== d) out.push(r(id, have.has(id) ? 'VPC state differed' : 'VPC state missing'));
  for (const id of have.keys()) if (!want.has(id)) out.push(r(id, 'VPC no longer in the document removed'));
  // The revision alone (nothing else changed) is no drift of the data plane, but the file is brought up to date.
  if (!out.length && held.revision !== doc.revision) out.push(r('(host)', `state of revision ${held.revision}, not ${doc.revision}`));
  return out;
}

/** Every host's applied document in a sim state directory, by host ID order. */
export function readSimState(dir: string): HostDocument[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as HostDocument);
}
