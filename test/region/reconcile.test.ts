/**
 * Reconciliation end to end, as root, in a region in a box with the default
 * audit period: hand-made changes in a router namespace — its nftables table
 * deleted (which opens ports the security group closes), a route deleted, a
 * port's veth deleted — are each found by the host's audit and repaired
 * within 15 s, and show in `weft status --json` (driftRepairs grows,
 * lastAudit moves). Also: every host reports the revision compiled for it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { after, before, describe, it } from 'node:test';
import { isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run } from '../helpers/region.js';
import type { RegionStatus } from '../../src/controller/region-status.js';


/** What the issue asks: drift repaired within 15 s. */
const REPAIR_MS = 15_000;

describe(`reconciliation (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  const ids: Record<string, string> = {};
  const ip: Record<string, string> = {};
  const tcp = (from: string, to: string, port: number) => box.exec(ids[from]!, ['nc', '-z', '-w', '2', ip[to]!, String(port)]).then((r) => r.code === 0);
  const ping = (from: string, to: string) => box.exec(ids[from]!, ['ping', '-c', '1', '-W', '1', ip[to]!]).then((r) => r.code === 0);
  const status = async (): Promise<RegionStatus> => {
    const r = await run(['status', '--data-dir', box.dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RegionStatus;
  };
  /** The router namespace on the host of b's port, and that host's name. */
  const routerOfB = () => {
    const ns = readdirSync('/run/netns').find((n) => n.startsWith(`${box.prefix}-h2-vpc-`))!;
    return { ns, host: 'h2' };
  };

  /** Breaks something, then waits for the audit to repair it; returns how long that took and the host's status after. */
  async function driftRepaired(what: string, breakIt: () => void, repaired: () => boolean) {
    const before = (await status()).hosts.find((h) => h.name === 'h2')!;
    const t0 = Date.now();
    breakIt();
    assert.equal(repaired(), false, `${what}: not broken`);
    await until(`${what} repaired`, async () => repaired(), REPAIR_MS + 5000);
    const ms = Date.now() - t0;
    assert.ok(ms <= REPAIR_MS, `${what}: repaired after ${ms} ms, more than ${REPAIR_MS}`);
    const after = await until(`${what} in weft status`, async () => {
      const h = (await status()).hosts.find((x) => x.name === 'h2')!;
      return h.driftRepairs > before.driftRepairs && h.lastAudit !== before.lastAudit && h;
    }, 10_000);
    return { ms, before, after };
  }

  before(async () => {
    box = await startBox(2);
    const vpcId = (await box.vpc.CreateVpc({ VpcName: 'app', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const s1 = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const s2 = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    const sg = (await box.vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'web',
      GroupDescription: 'tcp 80 and icmp inside the VPC; 81 closed',
      SecurityGroupPolicySet: {
        Ingress: [
          { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          { Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
        ],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
    for (const [name, zone, subnet] of [['a', 'local-1', s1], ['b', 'local-2', s2]] as const) {
      const r = await box.cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg], InstanceName: name });
      ids[name] = r.InstanceIdSet![0]!;
    }
    const running = await until('instances RUNNING', async () => {
      const r = await box.cvm.DescribeInstances({ InstanceIds: Object.values(ids) });
      return r.InstanceSet!.every((i) => i.InstanceState === 'RUNNING') && r.InstanceSet;
    });
    for (const i of running) ip[Object.keys(ids).find((k) => ids[k] === i.InstanceId)!] = i.PrivateIpAddresses![0]!;
    box.spawnIn(ids.b!, ['nc', '-l', '-k', '80']);
    box.spawnIn(ids.b!, ['nc', '-l', '-k', '81']);
    await until('a → b tcp 80', () => tcp('a', 'b', 80));
  });
  after(async () => box?.down());

  it('shows every host connected, with the revision compiled for it applied and audited', async () => {
    const s = await until('every host audited', async () => {
      const x = await status();
      return x.hosts.length === 2 && x.hosts.every((h) => h.lastAudit && h.revision !== null && h.appliedRevision === h.revision) && x;
    }, 30_000);
    assert.equal(s.controller.up, true);
    assert.ok(['sqlite', 'postgres'].includes(s.store.engine));
    assert.deepEqual(s.hosts.map((h) => [h.name, h.role, h.connected]), [['h1', 'host', true], ['h2', 'host', true]]);
    for (const h of s.hosts) assert.ok(Array.isArray(h.underlay), `${h.name}: an underlay section`);
    const text = await run(['status', '--data-dir', box.dataDir]);
    assert.match(text.stdout, /^controller {2}up/m);
    assert.match(text.stdout, /^h2 +host +connected/m);
  });

  it('answers DescribeRegionStatus through the official SDK to the admin account only', async () => {
    type Any = Record<string, any>;
    const call = (c: VpcClient, params: Any) => (c as unknown as { request(a: string, p: Any): Promise<Any> }).request('DescribeRegionStatus', params);
    const r = await call(box.vpc, {});
    assert.deepEqual(r.Hosts.map((h: Any) => h.Name), ['h1', 'h2']);
    assert.equal(typeof r.Hosts[0].DriftRepairs, 'number');
    assert.equal(r.Controller.Up, true);
    await assert.rejects(call(box.vpc, { RecentDriftLimit: 101 }), (e: Any) => e.code === 'InvalidParameterValue.Range' && /RecentDriftLimit/.test(e.message));
    const other = await box.newAccount('tenant');
    const endpoint = JSON.parse(readFileSync(join(box.dataDir, 'credentials.json'), 'utf8')).Endpoint as string;
    const tenant = new VpcClient({ credential: { secretId: other.SecretId, secretKey: other.SecretKey }, region: 'local', profile: { httpProfile: { endpoint, protocol: 'http://' } } });
    await assert.rejects(call(tenant, {}), (e: Any) => e.code === 'UnauthorizedOperation' && /admin/.test(e.message));
  });

  it('repairs a deleted nftables table: the port the security group closes is closed again', async () => {
    assert.equal(await tcp('a', 'b', 81), false, 'tcp 81 is closed by the security group');
    const { ns } = routerOfB();
    const hasTable = () => {
      try {
        execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'weft'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    const r = await driftRepaired('nftables table inet weft', () => execFileSync('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'weft']), hasTable);
    assert.ok(r.after.recentDrift.some((d) => d.kind === 'nft' && d.ns === ns && d.repaired), JSON.stringify(r.after.recentDrift));
    assert.equal(await tcp('a', 'b', 81), false, 'tcp 81 is closed again');
    assert.ok(await tcp('a', 'b', 80), 'tcp 80 still open');
  });

  it('repairs a deleted route', async () => {
    const { ns } = routerOfB();
    const route = `${ip.a}/32`;
    const hasRoute = () => execFileSync('ip', ['-n', ns, 'route', 'show', route], { encoding: 'utf8' }).trim() !== '';
    const r = await driftRepaired('route to a', () => execFileSync('ip', ['-n', ns, 'route', 'del', route]), hasRoute);
    assert.ok(r.after.recentDrift.some((d) => d.ns === ns && d.what.includes(route)), JSON.stringify(r.after.recentDrift));
    assert.ok(await ping('a', 'b'));
  });

  it("repairs a deleted port veth", async () => {
    const { ns } = routerOfB();
    const port = `p${ids.b!.slice(4)}`;
    const hasPort = () => execFileSync('ip', ['-n', ns, '-o', 'link'], { encoding: 'utf8' }).includes(`${port}@`);
    await driftRepaired('port veth of b', () => execFileSync('ip', ['-n', ns, 'link', 'del', port]), hasPort);
    await until('a → b ping after the veth came back', () => ping('a', 'b'), 5000);
    assert.ok(await tcp('a', 'b', 80));
  });
});
