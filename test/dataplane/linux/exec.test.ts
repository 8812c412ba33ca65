/**
 * exec.ts against the real kernel (root): namespaces created in one batch,
 * with a random prefix, removed in after().
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CommandError, ipBatchNetlink, ipJson, ipJsonNetlink, listNetns, netnsAdd, netnsAddAll, netnsDel } from '../../../src/dataplane/linux/exec.js';

const root = process.getuid?.() === 0;
const prefix = `wx${randomBytes(2).toString('hex')}`;

describe('netnsAddAll', { skip: root ? false : 'needs root' }, () => {
  after(async () => {
    for (const n of await listNetns()) if (n.startsWith(`${prefix}-`)) await netnsDel(n);
  });

  test('creates every namespace in one go, leaving one that exists as it is', async () => {
    await netnsAdd(`${prefix}-b`);
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    await netnsAddAll(names);
    const now = (await listNetns()).filter((n) => n.startsWith(`${prefix}-`)).sort();
    assert.deepEqual(now, names);
  });

  test('fails on a namespace it cannot create, after creating the others', async () => {
    // A name with a slash is refused by ip itself ("Invalid netns name").
    await assert.rejects(netnsAddAll([`${prefix}-d`, `${prefix}-x/y`]), (e) => e instanceof CommandError);
    assert.ok((await listNetns()).includes(`${prefix}-d`));
  });

  test('ipBatchNetlink and ipJsonNetlink work inside the namespace, not outside it', async () => {
    const ns = `${prefix}-a`;
    await ipBatchNetlink(ns, ['link add d0 type veth peer name d1', 'addr add 192.0.2.7/32 dev d0', 'link set d0 up']);
    const seen = await ipJsonNetlink<{ ifname: string; addr_info: { local: string }[] }>(ns, ['addr', 'show', 'dev', 'd0']);
    assert.equal(seen[0]?.addr_info[0]?.local, '192.0.2.7');
    assert.deepEqual((await ipJson<{ ifname: string }>(ns, ['link', 'show'])).map((l) => l.ifname).sort(), ['d0', 'd1', 'lo'], 'as ip -n sees it');
    assert.ok(!(await ipJson<{ ifname: string }>(null, ['link', 'show'])).some((l) => l.ifname === 'd0'), 'nothing in the root namespace');
    await assert.rejects(ipBatchNetlink(ns, ['link add d0 type veth peer name d2']), (e) => e instanceof CommandError && /d0/.test(e.message));
    await assert.rejects(ipJsonNetlink(`${prefix}-missing`, ['link', 'show']), (e) => e instanceof CommandError);
  });
});
