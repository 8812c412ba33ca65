import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSimState, SimDriver } from '../../../src/dataplane/sim/driver.js';
import { baseScenario, documents } from '../../trace/scenario.js';

test("the sim driver's state outlives its agent: written on change, adopted on start", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sim-state-'));
  try {
    const [h1, h2] = documents(baseScenario());
    const a = new SimDriver(join(dir, `${h1!.hostId}.json`));
    assert.deepEqual(await a.apply(h1!), { changes: 1 });
    assert.deepEqual(await a.apply(h1!), { changes: 0 }, 'the same document again changes nothing');
    await new SimDriver(join(dir, `${h2!.hostId}.json`)).apply(h2!);
    assert.deepEqual(readSimState(dir), [h1, h2], 'every host, as applied');
    assert.ok(!existsSync(join(dir, `${h1!.hostId}.json.tmp`)), 'no half-written file left');
    // A new agent of h1 adopts the state: the document it is then given is no change.
    const b = new SimDriver(join(dir, `${h1!.hostId}.json`));
    assert.deepEqual(b.document, h1);
    assert.deepEqual(await b.apply(h1!), { changes: 0 });
    assert.deepEqual(await b.apply({ ...h1!, revision: h1!.revision + 1 }), { changes: 1 });
    assert.equal(readSimState(dir)[0]!.revision, h1!.revision + 1);
    assert.deepEqual(readSimState(join(dir, 'none')), [], 'no state directory: no hosts');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
