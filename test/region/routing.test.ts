/**
 * Routing end to end in the region in a box, as root: route tables with
 * NORMAL_CVM and ECMP next hops, network ACLs and VPC peering, driven through
 * the official SDK, and real packets between instance namespaces.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, type Creds } from '../helpers/region.js';

/** A TCP server inside an instance that answers every connection with its name, and streams it on :8081 every 100 ms. */
const nameServer = (name: string, addr: string) => [
  process.execPath,
  '-e',
  `const net=require('net');` +
    `net.createServer(s=>s.end('${name}\\n')).listen(8080,'${addr}');` +
    `net.createServer(s=>{const t=setInterval(()=>s.write('${name}\\n'),100);s.on('error',()=>clearInterval(t));s.on('close',()=>clearInterval(t));}).listen(8081,'${addr}');`,
];

/** Opens `n` connections to addr:8080 from one instance (new source ports) and counts who answered. */
const tally = (n: number, addr: string) =>
  `const net=require('net');const c={};let left=${n};` +
  `const one=()=>new Promise(ok=>{const s=net.connect(8080,'${addr}');let d='';s.setTimeout(2000,()=>s.destroy());` +
  `s.on('data',x=>d+=x);s.on('close',()=>{const k=d.trim()||'none';c[k]=(c[k]||0)+1;ok();});s.on('error',()=>{});});` +
  `(async()=>{while(left--)await one();console.log(JSON.stringify(c));})();`;

/**
 * How long a change may take to reach the kernels in this box. With a 1 s
 * resync each agent rereads its whole kernel state (2 s and more when the
 * machine is busy with other suites): 20 s proved short for peering and ACL
 * changes on a loaded machine, never in isolation. A convergence wait, not a
 * timed assertion: bench/ measures how fast changes apply.
 */
const CONVERGE_MS = 45_000;

describe(`routing in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  const ip: Record<string, string> = {};
  const id: Record<string, string> = {};
  let vpcId = '';
  const subnet: Record<string, string> = {};
  let openSg = '';

  const ping = (from: string, to: string) => box.exec(id[from]!, ['ping', '-c', '1', '-W', '1', ip[to] ?? to]).then((r) => r.code === 0);
  const tcp = (from: string, to: string, port: number) => box.exec(id[from]!, ['nc', '-z', '-w', '2', ip[to] ?? to, String(port)]).then((r) => r.code === 0);
  const inNs = (name: string, cmd: string[]) => execFileSync('ip', ['netns', 'exec', `${box.prefix}-${id[name]}`, ...cmd], { encoding: 'utf8' });

  async function launch(cvm: CvmClient, name: string, v: string, s: string, zone: string, sg: string) {
    const r = await cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: v, SubnetId: s }, SecurityGroupIds: [sg], InstanceName: name });
    id[name] = r.InstanceIdSet![0]!;
  }
  async function running(cvm: CvmClient, names: string[]) {
    const set = await until(`${names.join(', ')} RUNNING`, async () => {
      const r = await cvm.DescribeInstances({ InstanceIds: names.map((n) => id[n]!) });
      return r.InstanceSet!.every((i) => i.InstanceState === 'RUNNING') && r.InstanceSet;
    }, 60_000);
    for (const i of set) ip[names.find((n) => id[n] === i.InstanceId)!] = i.PrivateIpAddresses![0]!;
  }
  async function openGroup(vpc: VpcClient, name: string) {
    return (await vpc.CreateSecurityGroupWithPolicies({
      GroupName: name,
      GroupDescription: 'everything from private addresses',
      SecurityGroupPolicySet: {
        Ingress: [
          { Protocol: 'ALL', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' },
          { Protocol: 'ALL', CidrBlock: '192.168.0.0/16', Action: 'ACCEPT' },
        ],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
  }

  before(async () => {
    box = await startBox(3, { WEFT_AGENT_RESYNC_MS: '1000' });
    vpcId = (await box.vpc.CreateVpc({ VpcName: 'routing', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    for (const [n, cidr, zone] of [
      ['clients', '10.0.1.0/24', 'local-1'],
      ['routers', '10.0.2.0/24', 'local-2'],
      ['servers', '10.0.3.0/24', 'local-1'],
    ] as const)
      subnet[n] = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: n, CidrBlock: cidr, Zone: zone })).Subnet!.SubnetId!;
    openSg = await openGroup(box.vpc, 'open');
    await launch(box.cvm, 'c', vpcId, subnet.clients!, 'local-1', openSg);
    await launch(box.cvm, 'srv', vpcId, subnet.servers!, 'local-1', openSg);
    for (const f of ['f1', 'f2', 'f3']) await launch(box.cvm, f, vpcId, subnet.routers!, 'local-2', openSg);
    await running(box.cvm, ['c', 'srv', 'f1', 'f2', 'f3']);
    box.spawnIn(id.srv!, ['nc', '-l', '-k', '80']);
  });
  after(async () => box?.down());

  describe('route tables', () => {
    let table = '';
    before(async () => {
      table = (await box.vpc.CreateRouteTable({ VpcId: vpcId, RouteTableName: 'via-routers' })).RouteTable!.RouteTableId!;
      await box.vpc.ReplaceRouteTableAssociation({ RouteTableId: table, SubnetId: subnet.clients! });
    });

    it('reaches a network behind a forwarding instance through a NORMAL_CVM route, and not once it stops forwarding', async () => {
      // 192.168.50.0/24 lives in a namespace behind f1, on a veth of f1's own.
      const behind = `${box.prefix}-behind`;
      execFileSync('ip', ['netns', 'add', behind]);
      execFileSync('ip', ['-n', `${box.prefix}-${id.f1}`, 'link', 'add', 'b1', 'type', 'veth', 'peer', 'name', 'b0', 'netns', behind]);
      inNs('f1', ['ip', 'addr', 'add', '192.168.50.1/24', 'dev', 'b1']);
      inNs('f1', ['ip', 'link', 'set', 'b1', 'up']);
      inNs('f1', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      execFileSync('ip', ['-n', behind, 'addr', 'add', '192.168.50.2/24', 'dev', 'b0']);
      execFileSync('ip', ['-n', behind, 'link', 'set', 'b0', 'up']);
      execFileSync('ip', ['-n', behind, 'route', 'add', 'default', 'via', '192.168.50.1']);

      assert.equal(await ping('c', '192.168.50.2'), false, 'no route yet');
      await box.vpc.CreateRoutes({ RouteTableId: table, Routes: [{ DestinationCidrBlock: '192.168.50.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip.f1! }] });
      await until('c → 192.168.50.2 through f1', () => ping('c', '192.168.50.2'), CONVERGE_MS);
      // The subnet on the main table has no such route.
      assert.equal(await ping('srv', '192.168.50.2'), false, 'servers use the main table: no route there');

      inNs('f1', ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
      assert.equal(await ping('c', '192.168.50.2'), false, 'f1 no longer forwards');
      inNs('f1', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      assert.ok(await ping('c', '192.168.50.2'), 'and forwards again');

      const routes = (await box.vpc.DescribeRouteTables({ RouteTableIds: [table] })).RouteTableSet![0]!.RouteSet!;
      const mine = routes.find((r) => r.DestinationCidrBlock === '192.168.50.0/24')!;
      await box.vpc.DisableRoutes({ RouteTableId: table, RouteIds: [mine.RouteId!] });
      await until('disabled route withdrawn', async () => !(await ping('c', '192.168.50.2')), CONVERGE_MS);
      await box.vpc.DeleteRoutes({ RouteTableId: table, Routes: [{ RouteId: mine.RouteId!, DestinationCidrBlock: mine.DestinationCidrBlock!, GatewayType: mine.GatewayType!, GatewayId: mine.GatewayId! }] });
    });

    it('spreads flows over an ECMP group; a long flow stays on its member; a terminated next hop leaves the group', async () => {
      const anycast = '192.168.60.1';
      const stops: (() => void)[] = [];
      for (const f of ['f1', 'f2', 'f3']) {
        inNs(f, ['ip', 'addr', 'add', `${anycast}/32`, 'dev', 'lo']);
        stops.push(box.spawnIn(id[f]!, nameServer(f, anycast)));
      }
      await box.vpc.CreateRoutes({
        RouteTableId: table,
        Routes: ['f1', 'f2', 'f3'].map((f) => ({ DestinationCidrBlock: '192.168.60.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip[f]! })),
      });
      const counts = async () => JSON.parse((await box.exec(id.c!, [process.execPath, '-e', tally(60, anycast)], 60_000)).out.trim().split('\n').pop()!) as Record<string, number>;
      // Until the servers listen (a node process each), some flows find nobody: wait for a round where every flow is answered.
      const first = await until('every flow answered, by every member', async () => {
        const c = await counts();
        return !('none' in c) && ['f1', 'f2', 'f3'].every((f) => (c[f] ?? 0) > 0) && c;
      }, CONVERGE_MS);
      assert.ok(['f1', 'f2', 'f3'].every((f) => first[f]! >= 5), `each member gets a share of 60 flows: ${JSON.stringify(first)}`);

      // A long flow, read for its member; then a member it is not on is terminated.
      const reader = spawn('ip', ['netns', 'exec', `${box.prefix}-${id.c}`, 'nc', anycast, '8081'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let seen = '';
      reader.stdout.on('data', (d) => (seen += d));
      try {
        await until('long flow streaming', async () => seen.split('\n').filter(Boolean).length >= 3, CONVERGE_MS);
        const member = seen.split('\n')[0]!;
        const victim = ['f1', 'f2', 'f3'].find((f) => f !== member)!;
        await box.cvm.TerminateInstances({ InstanceIds: [id[victim]!] });
        await until('victim gone from the group', async () => {
          const c = await counts();
          return !(victim in c) && !('none' in c) && c;
        }, CONVERGE_MS);
        const before = seen.length;
        await until('long flow still streaming', async () => seen.length > before + 20, CONVERGE_MS);
        assert.deepEqual([...new Set(seen.split('\n').filter(Boolean))], [member], 'the long flow never changed member');
        assert.equal(reader.exitCode, null, 'the long flow is still open');
      } finally {
        reader.kill('SIGKILL');
        for (const s of stops) s();
      }
    });
  });

  describe('network ACLs', () => {
    let acl = '';
    it('deny and allow in both directions, the return path evaluated on its own (stateless)', async () => {
      assert.ok(await tcp('c', 'srv', 80), 'no ACL: open');
      acl = (await box.vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'servers' })).NetworkAcl!.NetworkAclId!;
      await box.vpc.AssociateNetworkAclSubnets({ NetworkAclId: acl, SubnetIds: [subnet.servers!] });
      await until('a new ACL denies everything', async () => !(await tcp('c', 'srv', 80)), CONVERGE_MS);
      assert.equal(await ping('c', 'srv'), false);

      await box.vpc.ModifyNetworkAclEntries({
        NetworkAclId: acl,
        NetworkAclEntrySet: {
          Ingress: [{ Protocol: 'TCP', Port: '80', CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' }],
          Egress: [{ Protocol: 'TCP', Port: '1024-65535', CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' }],
        },
      });
      await until('tcp 80 allowed in, replies allowed out', () => tcp('c', 'srv', 80), CONVERGE_MS);
      assert.equal(await ping('c', 'srv'), false, 'icmp is not allowed');

      // Egress only: the inbound entries stay, the return path loses its entry.
      await box.vpc.ModifyNetworkAclEntries({ NetworkAclId: acl, NetworkAclEntrySet: { Egress: [{ Protocol: 'ICMP', CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' }] } });
      await until('the reply is dropped on its way out', async () => !(await tcp('c', 'srv', 80)), CONVERGE_MS);
      const described = (await box.vpc.DescribeNetworkAcls({ NetworkAclIds: [acl] })).NetworkAclSet![0]!;
      assert.equal(described.IngressEntries!.length, 1, 'inbound entries untouched');

      // Outbound from the subnet: srv → c needs an egress entry (icmp is there) and the echo reply an ingress one.
      assert.equal(await ping('srv', 'c'), false, 'echo reply not allowed in');
      await box.vpc.ModifyNetworkAclEntries({
        NetworkAclId: acl,
        NetworkAclEntrySet: {
          Ingress: [
            { Protocol: 'ICMP', CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' },
            { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.1.0/24', Action: 'DROP' },
            { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          ],
        },
      });
      await until('srv → c icmp both ways', () => ping('srv', 'c'), CONVERGE_MS);
      assert.ok(await ping('c', 'srv'), 'c → srv icmp both ways');
      assert.equal(await tcp('c', 'srv', 80), false, 'the first matching entry (DROP) decides');

      await box.vpc.DisassociateNetworkAclSubnets({ NetworkAclId: acl, SubnetIds: [subnet.servers!] });
      await until('no ACL: open again', () => tcp('c', 'srv', 80), CONVERGE_MS);
    });
  });

  describe('peering', () => {
    const other: { creds?: Creds; vpc?: VpcClient; cvm?: CvmClient } = {};
    const peers: Record<string, string> = {};
    before(async () => {
      other.creds = await box.newAccount('tenant-b');
      const opts = {
        credential: { secretId: other.creds.SecretId, secretKey: other.creds.SecretKey },
        region: 'local',
        profile: { httpProfile: { endpoint: other.creds.Endpoint, protocol: 'http://', reqTimeout: 30 } },
      };
      other.vpc = new VpcClient(opts);
      other.cvm = new CvmClient(opts);
      for (const [name, cidr, client, cvm, zone] of [
        ['p', '10.10.0.0/16', box.vpc, box.cvm, 'local-1'],
        ['q', '10.20.0.0/16', box.vpc, box.cvm, 'local-2'],
        ['r', '10.30.0.0/16', box.vpc, box.cvm, 'local-1'],
        ['t', '10.40.0.0/16', other.vpc, other.cvm, 'local-2'],
      ] as const) {
        const v = (await client.CreateVpc({ VpcName: name, CidrBlock: cidr })).Vpc!.VpcId!;
        peers[name] = v;
        const s = (await client.CreateSubnet({ VpcId: v, SubnetName: name, CidrBlock: cidr.replace('0.0/16', '1.0/24'), Zone: zone })).Subnet!.SubnetId!;
        const sg = client === box.vpc ? openSg : await openGroup(client, 'open');
        await launch(cvm, name, v, s, zone, sg);
      }
      await running(box.cvm, ['p', 'q', 'r']);
      await running(other.cvm!, ['t']);
    });

    const mainTable = async (client: VpcClient, vpc: string) =>
      (await client.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpc] }, { Name: 'association.main', Values: ['true'] }] })).RouteTableSet![0]!.RouteTableId!;
    const route = async (client: VpcClient, vpc: string, destination: string, pcx: string) =>
      client.CreateRoutes({ RouteTableId: await mainTable(client, vpc), Routes: [{ DestinationCidrBlock: destination, GatewayType: 'PEERCONNECTION', GatewayId: pcx }] });
    const peer = async (from: string, to: string, uin: string) =>
      (await box.vpc.CreateVpcPeeringConnection({ SourceVpcId: peers[from]!, PeeringConnectionName: `${from}-${to}`, DestinationVpcId: peers[to]!, DestinationUin: uin, DestinationRegion: 'local' })).PeeringConnectionId!;

    it('carries traffic both ways only where the sending side has a route, host to host; never transitively', async () => {
      const uin = (JSON.parse(readFileSync(`${box.dataDir}/credentials.json`, 'utf8')) as Creds).Uin;
      const pq = await peer('p', 'q', uin);
      const qr = await peer('q', 'r', uin);
      assert.equal(await ping('p', 'q'), false, 'peered, but no routes yet');
      await route(box.vpc, peers.p!, '10.20.0.0/16', pq);
      await new Promise((ok) => setTimeout(ok, 1500));
      assert.equal(await ping('p', 'q'), false, 'only p has a route: the reply has none');
      await route(box.vpc, peers.q!, '10.10.0.0/16', pq);
      await until('p ⇄ q', () => ping('p', 'q'), CONVERGE_MS);
      assert.ok(await ping('q', 'p'));
      await route(box.vpc, peers.q!, '10.30.0.0/16', qr);
      await route(box.vpc, peers.r!, '10.20.0.0/16', qr);
      await until('q ⇄ r', () => ping('q', 'r'), CONVERGE_MS);
      // p → r: p's only way is the p–q connection, whose routes must end in q; q never forwards peer to peer.
      const refused = await route(box.vpc, peers.p!, '10.30.0.0/16', pq).catch((e: { code?: string }) => e);
      assert.equal((refused as { code?: string }).code, 'InvalidParameterValue.CidrNotInPeerVpc');
      assert.equal(await ping('p', 'r'), false, 'not transitive');
      assert.equal(await ping('r', 'p'), false, 'not transitive');

      await box.vpc.DeleteVpcPeeringConnection({ PeeringConnectionId: pq });
      await until('p–q gone', async () => !(await ping('p', 'q')), CONVERGE_MS);
      const left = (await box.vpc.DescribeRouteTables({ RouteTableIds: [await mainTable(box.vpc, peers.p!)] })).RouteTableSet![0]!.RouteSet!;
      assert.ok(!left.some((r) => r.GatewayId === pq), 'its routes went with it');
    });

    it('across accounts: PENDING until the peer accepts; accounts see only their own', async () => {
      const pt = await peer('p', 't', other.creds!.Uin);
      const state = async (client: VpcClient) => (await client.DescribeVpcPeeringConnections({ PeeringConnectionIds: [pt] })).PeerConnectionSet?.[0]?.State;
      assert.equal(await state(box.vpc), 'PENDING');
      assert.equal(await state(other.vpc!), 'PENDING', 'the peer account sees the request');
      const own = await box.vpc.AcceptVpcPeeringConnection({ PeeringConnectionId: pt }).catch((e: { code?: string }) => e);
      assert.ok((own as { code?: string }).code, 'the requester cannot accept its own request');
      await assert.rejects(route(box.vpc, peers.p!, '10.40.0.0/16', pt), 'no routes over a PENDING connection');
      await other.vpc!.AcceptVpcPeeringConnection({ PeeringConnectionId: pt });
      assert.equal(await state(box.vpc), 'ACTIVE');
      await route(box.vpc, peers.p!, '10.40.0.0/16', pt);
      await route(other.vpc!, peers.t!, '10.10.0.0/16', pt);
      await until('p ⇄ t across accounts', () => ping('p', 't'), CONVERGE_MS);
      assert.ok(await ping('t', 'p'));
      assert.equal(await ping('t', 'q'), false, 'isolation: t reaches nothing else of the other account');

      const c = await box.newAccount('tenant-c');
      const stranger = new VpcClient({
        credential: { secretId: c.SecretId, secretKey: c.SecretKey },
        region: 'local',
        profile: { httpProfile: { endpoint: c.Endpoint, protocol: 'http://', reqTimeout: 30 } },
      });
      const seen = await stranger.DescribeVpcPeeringConnections({}).catch((e: { code?: string }) => e);
      assert.equal((seen as { TotalCount?: number }).TotalCount, 0, 'a third account sees no peering');
    });
  });
});
