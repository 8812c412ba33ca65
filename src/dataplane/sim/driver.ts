/**
 * The sim driver: the data plane in memory, for machines without root. It
 * holds each host's latest document; the packet interpreter that answers
 * "what happens to this packet" over those documents builds on it.
 */
import type { HostDocument } from '../../compile/host-document.js';

export class SimDriver {
  document: HostDocument | undefined;

  async apply(doc: HostDocument): Promise<{ changes: number }> {
    const changed = JSON.stringify(this.document) !== JSON.stringify(doc);
    this.document = doc;
    return { changes: changed ? 1 : 0 };
  }
}
