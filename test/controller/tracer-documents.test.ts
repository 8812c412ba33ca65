/**
 * The distribution as the packet tracer reads it (distribution.documentsFor →
 * region-view.ts accountView), against a real store (SQLite, or PostgreSQL
 * when WEFT_TEST_DATABASE is set) with registered hosts: the whole-host
 * documents are reduced to the account's VPCs; a trace sees a commit as soon
 * as it returns, this process's or another replica's; a recompile with the
 * same content keeps the revision its agent was given, which is what
 * pendingHosts compares with; and an agent that already holds its document's
 * content is answered once by a controller that has not given it that
 * revision yet (as after a restart).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchDocument } from '../../src/agent/controller-link.js';
import type { HostDocument } from '../../src/contract/host-document.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { createDistribution, type Distribution } from '../../src/controller/distribution.js';
import { accountView, pendingHosts, worldOf } from '../../src/api/vpc/region-view.js';
import { openStore, type Store, type Write } from '../../src/store/store.js';
import { engineName, freshDatabase } from '../helpers/region.js';

const ALICE = '100000000001';
const BOB = '100000000002';

async function freshStoreUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await freshDatabase();
  if (db) return db;
  const dir = mkdtempSync(join(tmpdir(), 'weft-tracer-docs-'));
  return { url: join(dir, 'weft.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

let macs = 1;

/** Rows as the actions write them, each with its change-log entry. */
const rows = {
  async vpc(w: Write, account: string, id: string, vni: number) {
    await w.tx
      .insertInto('vpcs')
      .values({ id, account, name: id, cidr: '10.0.0.0/16', is_default: 0, enable_multicast: 0, dns_servers: '[]', domain_name: '', created_at: w.now, vni })
      .execute();
    await w.tx
      .insertInto('subnets')
      .values({ id: id.replace('vpc-', 'subnet-'), account, vpc_id: id, name: id, cidr: '10.0.1.0/24', zone: 'local-1', is_default: 0, enable_broadcast: 0, created_at: w.now, route_table_id: '', network_acl_id: '' })
      .execute();
    w.changed(account, 'vpc', id, 'create');
  },
  async group(w: Write, account: string, id: string, port: string) {
    await w.tx
      .insertInto('security_groups')
      .values({ id, account, name: id, description: '', project_id: '0', is_default: 0, version: 0, created_at: w.now, updated_at: w.now })
      .execute();
    await rows.policy(w, account, id, port);
  },
  async policy(w: Write, account: string, sg: string, port: string) {
    await w.tx.deleteFrom('sg_policies').where('sg_id', '=', sg).execute();
    await w.tx
      .insertInto('sg_policies')
      .values({ sg_id: sg, direction: 'ingress', position: 0, protocol: 'TCP', port, cidr: '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: '', action: 'ACCEPT', description: '', modified_at: w.now })
      .execute();
    w.changed(account, 'security_group', sg, 'update');
  },
  async instance(w: Write, account: string, id: string, vpc: string, ip: string, host: string | null, groups: string[]) {
    const n = (macs++).toString(16).padStart(4, '0');
    await w.tx
      .insertInto('instances')
      .values({
        id, account, name: id, zone: 'local-1', vpc_id: vpc, subnet_id: vpc.replace('vpc-', 'subnet-'), private_ip: ip, mac: `52:54:00:00:${n.slice(0, 2)}:${n.slice(2)}`,
        eni_id: `eni-${id}`, state: 'RUNNING', image_id: 'img', instance_type: 'S5.SMALL1', cpu: 1, memory: 1, host_id: host, created_at: w.now,
      })
      .execute();
    if (groups.length) await w.tx.insertInto('instance_sgs').values(groups.map((sg, position) => ({ instance_id: id, sg_id: sg, position }))).execute();
    w.changed(account, 'instance', id, 'create');
  },
};

describe(`the distribution as the tracer reads it (${engineName()})`, () => {
  let db: { url: string; drop(): Promise<void> };
  let store: Store;
  let dist: Distribution;
  const tokens: Record<string, string> = {};
  before(async () => {
    db = await freshStoreUrl();
    store = await openStore(db.url);
    for (const [i, h] of ['h1', 'h2', 'h3'].entries()) tokens[h] = await registerHost(store, { id: h, zone: 'local-1', underlay: `100.64.0.${11 + i}` });
    dist = createDistribution(store, { pollMs: 3_600_000 }); // other replicas' commits: only what documentsFor reads itself
    await store.write(async (w) => {
      // Same CIDR, same addresses, same hosts: h1 and h2 each hold both accounts' VPCs.
      await rows.vpc(w, ALICE, 'vpc-aaaaaaaa', 100);
      await rows.vpc(w, BOB, 'vpc-bbbbbbbb', 200);
      await rows.group(w, ALICE, 'sg-a1', '22');
      await rows.group(w, BOB, 'sg-b1', '22');
      await rows.instance(w, ALICE, 'ins-a1', 'vpc-aaaaaaaa', '10.0.1.5', 'h1', ['sg-a1']);
      await rows.instance(w, ALICE, 'ins-a2', 'vpc-aaaaaaaa', '10.0.1.6', 'h2', ['sg-a1']);
      await rows.instance(w, BOB, 'ins-b1', 'vpc-bbbbbbbb', '10.0.1.5', 'h1', ['sg-b1']);
      await rows.instance(w, BOB, 'ins-b2', 'vpc-bbbbbbbb', '10.0.1.6', 'h2', ['sg-b1']);
    });
  });
  after(async () => {
    dist?.close();
    await store?.close();
    await db?.drop();
  });

  const vpcsOf = (docs: readonly { hostId: string; vpcs: { vpcId: string }[] }[]) => docs.map((d) => [d.hostId, d.vpcs.map((v) => v.vpcId)]);
  /** Instances a host's documents hold (local ports and remotes). */
  const ports = (docs: readonly (HostDocument | undefined)[]) => docs.flatMap((d) => d!.vpcs.flatMap((v) => [...v.ports, ...v.remotes].map((p) => p.instanceId))).sort();

  it("reduces the cached whole-host documents to the account's VPCs, as the fresh compile does", async () => {
    const [h1] = await dist.documentsFor(['h1']);
    assert.deepEqual(vpcsOf([h1!]), [['h1', ['vpc-aaaaaaaa', 'vpc-bbbbbbbb']]], 'the cache holds both tenants (what the filter is for)');
    for (const [account, vpc] of [[ALICE, 'vpc-aaaaaaaa'], [BOB, 'vpc-bbbbbbbb']] as const) {
      const cached = await accountView(store, account, { documents: dist.documentsFor });
      assert.deepEqual(vpcsOf(cached.documents), [['h1', [vpc]], ['h2', [vpc]]]);
      const fresh = await accountView(store, account);
      assert.deepEqual(cached.documents.map((d) => ({ ...d, revision: 0 })), fresh.documents.map((d) => ({ ...d, revision: 0 })));
    }
    // The reduction copies: the cached document, which the agents are sent, keeps every tenant.
    const [again] = await dist.documentsFor(['h1']);
    assert.equal(again!.vpcs.length, 2);
  });

  it("sees a commit as soon as it returns: this process's, and another replica's", async () => {
    await dist.documentsFor(['h1', 'h2', 'h3']); // everything cached
    // A new instance placed on h3: h1 learns of it only once the instance's row is read after the commit.
    await store.write((w) => rows.instance(w, ALICE, 'ins-a3', 'vpc-aaaaaaaa', '10.0.1.7', 'h3', ['sg-a1']));
    assert.ok(ports(await dist.documentsFor(['h1'])).includes('ins-a3'));
    const replica = await openStore(db.url);
    try {
      await replica.write((w) => rows.instance(w, ALICE, 'ins-a4', 'vpc-aaaaaaaa', '10.0.1.8', 'h3', ['sg-a1']));
      assert.ok(ports(await dist.documentsFor(['h1'])).includes('ins-a4'), 'read from the change log, not 2 s later');
    } finally {
      await replica.close();
    }
  });

  it('keeps the revision a document was given at while a recompile finds the same content', async () => {
    const [given] = await dist.documentsFor(['h1']);
    // An unplaced instance without groups: every host of its VPC is recompiled, and none of them changes.
    await store.write((w) => rows.instance(w, ALICE, 'ins-a5', 'vpc-aaaaaaaa', '10.0.1.9', null, []));
    await dist.documents.settled();
    const recompiled = (await dist.documents.get('h1'))!;
    assert.ok(recompiled.document.revision > given!.revision, 'the cache did recompile h1');
    const [kept] = await dist.documentsFor(['h1']);
    assert.equal(kept!.revision, given!.revision);
    // A change of the content moves it.
    await store.write((w) => rows.policy(w, ALICE, 'sg-a1', '2222'));
    const [moved] = await dist.documentsFor(['h1']);
    assert.ok(moved!.revision > given!.revision);
    assert.equal(moved!.vpcs.find((v) => v.vpcId === 'vpc-aaaaaaaa')!.securityGroups['sg-a1']!.ingress[0]!.ports[0]![0], 2222);
  });

  it("reuses a view's world while its documents stay the same, and builds a new one when they change", async () => {
    const view = () => accountView(store, ALICE, { vpcIds: ['vpc-aaaaaaaa'], documents: dist.documentsFor });
    const first = await view();
    const again = await view();
    assert.equal(again.key, first.key);
    assert.equal(worldOf(again), worldOf(first), 'the same world object');
    // BOB's view of the same hosts is another world: keys carry the account.
    assert.notEqual((await accountView(store, BOB, { documents: dist.documentsFor })).key, first.key);
    await store.write((w) => rows.policy(w, ALICE, 'sg-a1', '3333'));
    const changed = await view();
    assert.notEqual(changed.key, first.key);
    const world = worldOf(changed);
    assert.notEqual(world, worldOf(first));
    const router = [...world.routers.values()].flatMap((m) => [...m.values()]).find((r) => r.vpc.vpcId === 'vpc-aaaaaaaa')!;
    assert.equal(router.vpc.securityGroups['sg-a1']!.ingress[0]!.ports[0]![0], 3333, 'the new world holds the change');
  });

  it('lists the hosts whose agents report a revision older than their document', async () => {
    const view = await accountView(store, ALICE, { vpcIds: ['vpc-aaaaaaaa'], documents: dist.documentsFor });
    const rev = new Map(view.documents.map((d) => [d.hostId, d.revision]));
    const setApplied = (h: string, r: number) => store.db.updateTable('hosts').set({ applied_revision: r }).where('id', '=', h).execute();
    await setApplied('h1', rev.get('h1')!);
    await setApplied('h2', rev.get('h2')! - 1);
    await setApplied('h3', 0);
    assert.deepEqual(await pendingHosts(store, view, ['h1', 'h2', 'h3', 'h2']), [
      { hostId: 'h2', documentRevision: rev.get('h2')!, appliedRevision: rev.get('h2')! - 1 },
      { hostId: 'h3', documentRevision: rev.get('h3')!, appliedRevision: 0 },
    ]);
    assert.deepEqual(await pendingHosts(store, view, ['h1']), []);
    assert.deepEqual(await pendingHosts(store, view, ['h9']), [], 'a host outside the view is not asked about');
  });

  it('answers an agent that holds the content once with the revision it was not given yet, then waits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-tracer-sock-'));
    const socket = join(dir, 'agents.sock');
    const server = dist.serve();
    await new Promise<void>((ok) => server.listen(socket, ok));
    try {
      const link = { controller: `unix:${socket}`, hostId: 'h2', token: tokens.h2! };
      const [doc] = await dist.documentsFor(['h2']);
      const { digest } = (await dist.documents.get('h2'))!;
      // As after a controller restart: the agent sends the digest it holds; this process never answered it.
      const first = await fetchDocument(link, digest, 1);
      assert.equal(first?.digest, digest);
      assert.equal(first?.document.revision, doc!.revision);
      assert.equal(await fetchDocument(link, digest, 1), undefined, 'answered once, then the long poll waits');
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
