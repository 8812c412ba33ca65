/**
 * The region in a box end to end, as root: API calls become namespaces,
 * routes and nftables rules on the right hosts, and real packets flow (or
 * not) exactly as the VPC, subnets and security groups say.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, WEFT } from '../helpers/region.js';

describe(`region in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  const ids: Record<string, string> = {};
  const ip: Record<string, string> = {};
  let webSg = '';
  const tcp = (from: string, to: string, port: number) => box.exec(ids[from]!, ['nc', '-z', '-w', '2', ip[to]!, String(port)]).then((r) => r.code === 0);
  const ping = (from: string, to: string) => box.exec(ids[from]!, ['ping', '-c', '1', '-W', '1', ip[to]!]).then((r) => r.code === 0);

  before(async () => {
    box = await startBox(3, { WEFT_AGENT_RESYNC_MS: '1000' });
    const { Vpc } = await box.vpc.CreateVpc({ VpcName: 'app', CidrBlock: '10.0.0.0/16' });
    const vpcId = Vpc!.VpcId!;
    const s1 = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const s2 = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    webSg = (await box.vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'web',
      GroupDescription: 'tcp 80 and icmp inside the VPC',
      SecurityGroupPolicySet: {
        Ingress: [
          { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          { Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
        ],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
    const launch = async (name: string, zone: string, subnet: string) => {
      const r = await box.cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [webSg], InstanceName: name });
      ids[name] = r.InstanceIdSet![0]!;
    };
    await launch('a1', 'local-1', s1);
    await launch('a2', 'local-1', s1);
    await launch('b1', 'local-2', s2);
    const running = await until('instances RUNNING', async () => {
      const r = await box.cvm.DescribeInstances({ InstanceIds: Object.values(ids) });
      return r.InstanceSet!.every((i) => i.InstanceState === 'RUNNING') && r.InstanceSet;
    });
    for (const i of running) ip[Object.keys(ids).find((k) => ids[k] === i.InstanceId)!] = i.PrivateIpAddresses![0]!;
    for (const name of Object.keys(ids)) box.spawnIn(ids[name]!, ['nc', '-l', '-k', '80']);
    box.spawnIn(ids.b1!, ['nc', '-l', '-k', '81']);
  });
  after(async () => box?.down());

  it('spreads a zone over its hosts and gives instances their IPAM address and MAC', async () => {
    const r = await box.cvm.DescribeInstances({ InstanceIds: [ids.a1!] });
    const inst = r.InstanceSet![0]!;
    const link = JSON.parse(execFileSync('ip', ['-j', '-n', `${box.prefix}-${ids.a1}`, 'addr', 'show', 'eth0'], { encoding: 'utf8' }))[0];
    assert.equal(link.addr_info.find((a: { family: string }) => a.family === 'inet').local, inst.PrivateIpAddresses![0]);
    const hosts = (await import('node:fs')).readdirSync('/run/netns').filter((n) => n.startsWith(`${box.prefix}-h`) && n.includes('-vpc-'));
    assert.ok(hosts.some((n) => n.startsWith(`${box.prefix}-h1-`)) && hosts.some((n) => n.startsWith(`${box.prefix}-h3-`)), `zone local-1 (h1, h3) holds a1 and a2: ${hosts}`);
  });

  it('routes within a subnet, across subnets and across hosts', async () => {
    // RUNNING means the instance's own host applied it; peers' hosts follow within moments.
    await until('a1 → a2 (same subnet, other host)', () => ping('a1', 'a2'), 5000);
    assert.ok(await ping('a1', 'b1'), 'a1 → b1 (other subnet, other zone)');
    assert.ok(await tcp('b1', 'a1', 80), 'b1 → a1 tcp 80');
  });

  it('enforces security groups: allowed port passes, others are dropped', async () => {
    assert.ok(await tcp('a1', 'b1', 80));
    assert.equal(await tcp('a1', 'b1', 81), false, 'tcp 81 is not allowed');
  });

  it('applies an API change in the kernel, and an agent killed with -9 leaves traffic flowing and catches up on return', async () => {
    const run = JSON.parse(readFileSync(join(box.dataDir, 'run.json'), 'utf8')) as { agents: Record<string, number> };
    const hostOfB1 = readdirHostOf(box, ids.b1!);
    process.kill(run.agents[hostOfB1]!, 'SIGKILL');
    assert.ok(await tcp('a1', 'b1', 80), 'flows continue without the agent');
    await box.vpc.CreateSecurityGroupPolicies({ SecurityGroupId: webSg, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '81', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }] } });
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal(await tcp('a1', 'b1', 81), false, 'no agent on b1 host: the new rule is not there yet');
    const agent = spawn(process.execPath, [WEFT, 'agent', '--data-dir', box.dataDir, '--host-id', hostOfB1, '--dataplane', 'linux'], {
      stdio: 'ignore',
      env: { ...process.env, WEFT_AGENT_RESYNC_MS: '1000' },
    });
    try {
      await until('tcp 81 allowed after the agent returns', () => tcp('a1', 'b1', 81));
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('isolates a VPC with the same CIDR on the same hosts', async () => {
    const { Vpc } = await box.vpc.CreateVpc({ VpcName: 'twin', CidrBlock: '10.0.0.0/16' });
    const subnet = (await box.vpc.CreateSubnet({ VpcId: Vpc!.VpcId!, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const r = await box.cvm.RunInstances({
      Placement: { Zone: 'local-1' },
      VirtualPrivateCloud: { VpcId: Vpc!.VpcId!, SubnetId: subnet, PrivateIpAddresses: [ip.a2!] },
      SecurityGroupIds: [webSg],
      InstanceName: 'twin',
    });
    ids.twin = r.InstanceIdSet![0]!;
    ip.twin = ip.a2!;
    await until('twin RUNNING', async () => (await box.cvm.DescribeInstances({ InstanceIds: [ids.twin] })).InstanceSet![0]!.InstanceState === 'RUNNING');
    // Same address as a2, other VPC: a1 still reaches a2's address, and twin reaches nothing of the first VPC.
    assert.ok(await ping('a1', 'a2'));
    assert.equal(await ping('twin', 'a1'), false, 'twin cannot reach the other VPC');
    assert.equal(await ping('twin', 'b1'), false, 'twin cannot reach the other VPC across hosts');
  });

  it('repairs drift: a port deleted by hand comes back', async () => {
    const host = readdirHostOf(box, ids.a2!);
    const router = (await import('node:fs')).readdirSync('/run/netns').find((n) => n.startsWith(`${box.prefix}-${host}-vpc-`))!;
    execFileSync('ip', ['-n', router, 'link', 'del', `p${ids.a2!.slice(4)}`]);
    assert.equal(await ping('a1', 'a2'), false, 'the port is gone');
    await until('a2 reachable again', () => ping('a1', 'a2'));
  });

  it('removes an instance from the kernel when it is terminated', async () => {
    await box.cvm.TerminateInstances({ InstanceIds: [ids.a2!] });
    await until('namespace of a2 removed', async () => !(await import('node:fs')).existsSync(`/run/netns/${box.prefix}-${ids.a2}`));
    assert.ok(await ping('a1', 'b1'));
  });
});

/** The host an instance's namespace is plugged into, from the router namespace holding its port. */
function readdirHostOf(box: Box, instanceId: string): string {
  const port = `p${instanceId.slice(4)}`;
  for (const ns of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!)) {
    if (!ns.startsWith(`${box.prefix}-h`) || !ns.includes('-vpc-')) continue;
    const links = execFileSync('ip', ['-n', ns, '-o', 'link'], { encoding: 'utf8' });
    if (links.includes(`${port}@`)) return ns.slice(box.prefix.length + 1).split('-')[0]!;
  }
  throw new Error(`no router holds ${port}`);
}
