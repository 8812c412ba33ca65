/**
 * Agent report checks (pure): a malformed report, one ahead of the host's
 * document or with another document's digest is refused; an older document
 * counts only when the controller gave it out; a failed apply never counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeReport, parseReport } from '../../src/controller/agent-reports.js';
import type { AgentReport } from '../../src/contract/agent-report.js';

const D5 = 'a'.repeat(64);
const D4 = 'b'.repeat(64);
const given = { current: { revision: 5, digest: D5 }, earlier: new Map([[4, D4]]) };
const report = (o: Partial<AgentReport>): AgentReport => ({ revision: 5, digest: D5, ok: true, ...o });

describe('agent reports', () => {
  it('refuses malformed reports, saying what is wrong', () => {
    assert.match(parseReport(null) as string, /not a JSON object/);
    assert.match(parseReport({ revision: -1, digest: D5, ok: true }) as string, /revision/);
    assert.match(parseReport({ revision: 1.5, digest: D5, ok: true }) as string, /revision/);
    assert.match(parseReport({ revision: 5, ok: true }) as string, /digest/);
    assert.match(parseReport({ revision: 5, digest: 'not hex!', ok: true }) as string, /digest/);
    assert.match(parseReport({ revision: 5, digest: D5, ok: 'yes' }) as string, /ok/);
    assert.match(parseReport({ revision: 5, digest: D5, ok: true, drift: [{}] }) as string, /drift\[0\]/);
    assert.match(parseReport({ revision: 5, digest: D5, ok: true, drift: [{ at: 'x', revision: 5, vpcId: 'v', ns: null, kind: 'ip', what: '', repaired: true }] }) as string, /at/);
    assert.match(
      parseReport({ revision: 5, digest: D5, ok: true, drift: [{ at: new Date().toISOString(), revision: 6, vpcId: 'v', ns: null, kind: 'ip', what: '', repaired: true }] }) as string,
      /revision/,
    );
    assert.match(parseReport({ revision: 5, digest: D5, ok: true, audit: { at: new Date().toISOString(), ms: 1, ok: true } }) as string, /audit.*repairs/);
    const good = { revision: 5, digest: D5, ok: true, audit: { at: new Date().toISOString(), ms: 3, ok: true, repairs: 1 }, drift: [{ at: new Date().toISOString(), revision: 5, vpcId: 'vpc-1', ns: 'w-h1-vpc-1', kind: 'nft', what: 'add table inet weft', repaired: true }] };
    assert.deepEqual(parseReport(good), good);
  });

  it('counts a report only of a document the controller gave out, applied without error', () => {
    assert.deepEqual(judgeReport(report({}), given), { counts: true });
    assert.deepEqual(judgeReport(report({ ok: false, error: 'x' }), given), { counts: false });
    assert.match(judgeReport(report({ revision: 6 }), given).error!, /ahead/);
    assert.match(judgeReport(report({ digest: D4 }), given).error!, /not that of revision 5/);
    assert.deepEqual(judgeReport(report({ revision: 4, digest: D4 }), given), { counts: true });
    assert.match(judgeReport(report({ revision: 4, digest: D5 }), given).error!, /not that of revision 4/);
    // An older document this process never gave out (it restarted): recorded, does not count.
    assert.deepEqual(judgeReport(report({ revision: 2, digest: D4 }), given), { counts: false });
    assert.match(judgeReport(report({}), { earlier: new Map() }).error!, /no document/);
  });
});
