/**
 * The LB node's tables (load-balancer.ts): what is planned from a VPC's load
 * balancers, when nothing is, when only the moved slots are rewritten; and,
 * as root, that the kernel takes both forms and ends up with the same map.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { HostDocument, LbTarget, VpcContext } from '../../../src/contract/host-document.js';
import { lbLocalAddresses, lbWant, listenerTable, planLbAnnouncements, planLbTable, publicVips } from '../../../src/dataplane/linux/load-balancer.js';

const sh = promisify(execFile);
const isRoot = process.getuid?.() === 0;

const target = (last: number, weight = 10, healthy?: boolean): LbTarget => ({ ip: `10.0.1.${last}`, port: 8080, instanceId: `ins-0000000${last}`, weight, ...(healthy === undefined ? {} : { healthy }) });
const vpcWith = (targets: LbTarget[], size = 251, extra: Partial<VpcContext> = {}): VpcContext => ({
  vpcId: 'vpc-aaaaaaaa',
  vni: 100,
  routerMac: '0a:00:00:00:00:01',
  subnets: [],
  ports: [],
  remotes: [],
  securityGroups: {},
  groupMembers: {},
  loadBalancers: [
    { loadBalancerId: 'lb-aaaaaaaa', vip: '10.0.1.100', public: false, listeners: [{ listenerId: 'lbl-aaaaaaaa', protocol: 'tcp', port: 80, tableSize: size, targets }] },
    { loadBalancerId: 'lb-bbbbbbbb', vip: '198.51.100.7', public: true, listeners: [{ listenerId: 'lbl-bbbbbbbb', protocol: 'udp', port: 53, tableSize: size, targets: [target(9)] }] },
  ],
  ...extra,
});
const listener = (v: VpcContext) => v.loadBalancers![0]!.listeners[0]!;

describe('LB node tables: plan', () => {
  it('renders the listeners map, a chain per listener hashing the flow into its Maglev map, every slot filled', () => {
    const v = vpcWith([target(2), target(3), target(4)]);
    const text = lbWant(v)!.text;
    assert.match(text, /10\.0\.1\.100 \. tcp \. 80 : goto lbl-aaaaaaaa/);
    assert.match(text, /198\.51\.100\.7 \. udp \. 53 : goto lbl-bbbbbbbb/);
    assert.match(text, /meta l4proto tcp dnat ip to jhash ip saddr \. th sport \. ip daddr \. th dport mod 251 seed 0x[0-9a-f]{8} map @l_lbl_aaaaaaaa/);
    const slots = [...text.matchAll(/\b(\d+) : 10\.0\.1\.[234] \. 8080/g)].length;
    assert.equal(slots, 251, 'each slot of the 251 holds a backend');
  });

  it('leaves out weight 0 and unhealthy targets; a listener without backends has an empty map', () => {
    const { values } = listenerTable(listener(vpcWith([target(2, 0), target(3, 10, false), target(4, 10, true)])));
    assert.deepEqual([...new Set(values)], ['10.0.1.4 . 8080']);
    const empty = listenerTable(listener(vpcWith([target(2, 0)])));
    assert.deepEqual([...new Set(empty.values)], ['']);
    assert.doesNotMatch(lbWant(vpcWith([target(2, 0)]))!.text, /add element ip weftlb l_lbl_aaaaaaaa/);
  });

  it('plans nothing when the kernel holds the digest, and removes both tables when no load balancer is left', () => {
    const v = vpcWith([target(2), target(3)]);
    const digest = lbWant(v)!.applied.digest;
    assert.deepEqual(planLbTable(v, digest), []);
    const none = vpcWith([], 251, { loadBalancers: [] });
    assert.deepEqual(planLbTable(none, digest), ['table ip weftlb', 'delete table ip weftlb', 'table ip weftlbd', 'delete table ip weftlbd']);
    assert.deepEqual(planLbTable(none, undefined), []);
  });

  it('rewrites only the moved slots when the node knows what the kernel holds, else replaces both tables', () => {
    const before = vpcWith([target(2), target(3), target(4)]);
    const applied = lbWant(before)!.applied;
    const after = vpcWith([target(2), target(3), target(4, 10, false)]);
    const lines = planLbTable(after, applied.digest, applied);
    assert.ok(!lines.some((l) => l === 'delete table ip weftlb'), 'the Maglev table is not reloaded');
    const old = listenerTable(listener(before)).values;
    const now = listenerTable(listener(after)).values;
    const moved = old.filter((v, slot) => v !== now[slot]).length;
    const deleted = lines.filter((l) => l.startsWith('delete element')).flatMap((l) => l.replace(/^.*\{ | \}$/g, '').split(', '));
    const added = lines.filter((l) => l.startsWith('add element')).flatMap((l) => l.replace(/^.*\{ | \}$/g, '').split(', '));
    assert.equal(deleted.length, moved);
    assert.equal(added.length, moved);
    assert.ok(moved < 251 / 2, `about a third of the slots move when one of three backends goes (${moved})`);
    assert.ok(lines.includes(`  comment "${lbWant(after)!.applied.digest}"`), 'the new digest is written');
    // The kernel holding something else (another digest): replaced whole.
    assert.ok(planLbTable(after, 'weft 0000', applied).includes('delete table ip weftlb'));
    // Another shape (a new listener port): replaced whole.
    const moved80 = vpcWith([target(2), target(3), target(4)]);
    moved80.loadBalancers![0]!.listeners[0]!.port = 81;
    assert.ok(planLbTable(moved80, applied.digest, applied).includes('delete table ip weftlb'));
  });

  it('puts the VIPs and the node health-check source on lo, and announces only public VIPs', () => {
    const v = vpcWith([target(2)]);
    const doc: HostDocument = { hostId: 'lb2', revision: 1, underlay: '100.64.2.12', role: 'lb', lbNode: 2, vpcs: [v] };
    assert.deepEqual(lbLocalAddresses(v, doc), ['10.0.1.100/32', '198.51.100.7/32', '100.64.253.12/32']);
    assert.deepEqual(publicVips(v), ['198.51.100.7']);
    const lines = planLbAnnouncements(doc, [{ dst: '203.0.113.9/32', type: 'blackhole', table: '202' }] as never, 202);
    assert.deepEqual(lines, ['route del blackhole 203.0.113.9/32 table 202', 'route replace blackhole 198.51.100.7/32 proto static table 202']);
  });
});

describe('LB node tables: the kernel takes them', { skip: isRoot ? false : 'needs root (a network namespace)' }, () => {
  const ns = `wlb${randomBytes(3).toString('hex')}`;
  const nft = (text: string) =>
    new Promise<void>((ok, fail) => {
      const p = execFile('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], (e, _o, err) => (e ? fail(new Error(err)) : ok()));
      p.stdin!.end(text + '\n');
    });
  const mapOf = async () => (await sh('ip', ['netns', 'exec', ns, 'nft', 'list', 'map', 'ip', 'weftlb', 'l_lbl_aaaaaaaa'], { maxBuffer: 64 << 20 })).stdout.replace(/\s+/g, ' ');
  before(async () => {
    await sh('ip', ['netns', 'add', ns]);
  });
  after(async () => {
    await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('loads the full tables at 65537 slots, then a slot-by-slot change, to the same map a fresh load gives', async () => {
    const first = vpcWith([target(2), target(3), target(4)], 65537);
    await nft(planLbTable(first, undefined).join('\n'));
    const applied = lbWant(first)!.applied;
    const second = vpcWith([target(2), target(3), target(5, 30)], 65537);
    await nft(planLbTable(second, applied.digest, applied).join('\n'));
    const stepped = await mapOf();
    const digest = (await sh('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'ip', 'weftlbd'])).stdout;
    assert.match(digest, new RegExp(lbWant(second)!.applied.digest));
    await nft(planLbTable(second, 'weft stale').join('\n'));
    assert.equal(stepped, await mapOf(), 'the stepped map equals a fresh one');
  });
});
