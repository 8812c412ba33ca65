/**
 * NAT gateways through the gateway nodes, as root: a private subnet routed
 * (0.0.0.0/0) to a NAT gateway reaches the internet as the gateway's EIP;
 * a DNAT rule forwards a public port to an instance; sessions are copied
 * between nodes (conntrackd), so a download through the NAT gateway goes on
 * while each node fails and recovers in turn.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { background, failEachGateway, isRoot, openInstance, routerVia, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run } from '../helpers/region.js';

describe(`NAT gateways in a region in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  let vpcId = '';
  let instanceId = '';
  let privateIp = '';
  let natId = '';
  let natIp = '';
  const internet = (...cmd: string[]) => run(['exec', '--data-dir', box.dataDir, 'internet', '--', ...cmd]);
  const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
  /** Until a TCP port listens on the internet side (under load a server takes more than a moment to start). */
  const listening = (port: number) =>
    until(`the internet listening on ${port}`, async () => execFileSync('ip', ['netns', 'exec', `${box.prefix}-internet`, 'ss', '-ltn'], { encoding: 'utf8' }).includes(`:${port} `), 10_000);
  const via = (router: string, prefix: string) => routerVia(box, router, prefix);
  /** NAT sessions in a gateway node's conntrack table. */
  const sessions = (gw: string) => {
    try {
      return execFileSync('ip', ['netns', 'exec', `${box.prefix}-${gw}`, 'conntrack', '-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  };

  before(async () => {
    box = await startBox(2, {}, 2);
    const open = await openInstance(box, 'private');
    ({ vpcId, instanceId, privateIp } = open);
    const subnetId = open.subnetId;

    const created = await box.vpc.CreateNatGateway({ VpcId: vpcId, NatGatewayName: 'out', AddressCount: 1 });
    natId = created.NatGatewaySet![0]!.NatGatewayId!;
    const nat = await until('AVAILABLE', async () => {
      const n = (await box.vpc.DescribeNatGateways({ NatGatewayIds: [natId] })).NatGatewaySet![0]!;
      return n.State === 'AVAILABLE' && n;
    }, 60_000);
    natIp = nat.PublicIpAddressSet![0]!.PublicIpAddress!;
    await box.vpc.CreateNatGatewaySourceIpTranslationNatRule({
      NatGatewayId: natId,
      SourceIpTranslationNatRules: [{ ResourceType: 'SUBNET', ResourceId: subnetId, PrivateIpAddress: '10.0.1.0/24', PublicIpAddresses: [natIp], Description: 'the private subnet' }],
    });
    const table = (await box.vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).RouteTableSet![0]!.RouteTableId!;
    await box.vpc.CreateRoutes({ RouteTableId: table, Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayType: 'NAT', GatewayId: natId }] });
  });
  after(async () => {
    const dataDir = box?.dataDir;
    await box?.down();
    if (dataDir) {
      let left = '';
      try {
        left = execFileSync('pgrep', ['-f', `${dataDir}/conntrackd/`], { encoding: 'utf8' }).trim();
      } catch {
        // pgrep exits 1 when nothing matches
      }
      assert.equal(left, '', 'weft down stops every conntrackd it started');
    }
  });

  it('becomes AVAILABLE once every gateway node holds it, and its EIP is announced by one node first', async () => {
    const task = (await box.vpc.DescribeNatGateways({ NatGatewayIds: [natId] })).NatGatewaySet![0]!;
    assert.equal(task.State, 'AVAILABLE');
    // The internet router reaches the NAT EIP over one node (the shortest AS path), not the pool's ECMP.
    await until('the EIP announced', async () => via('inet', `${natIp}`).length === 1, 15_000);
  });

  it('takes a private instance to the internet as the NAT EIP (ICMP, TCP, UDP)', async () => {
    await until('instance → internet', async () => (await box.exec(instanceId, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code === 0, 20_000);
    const tcp = background(`${box.prefix}-internet`, ['timeout', '10', 'nc', '-n', '-v', '-l', '-p', '9090']);
    await pause(300);
    await box.exec(instanceId, ['sh', '-c', 'echo out | nc -n -w 1 198.18.0.10 9090']);
    const seen = await tcp;
    assert.match(seen, new RegExp(`Connection received on ${natIp.replace(/\./g, '\\.')} `), 'the internet sees the NAT EIP');
    assert.match(seen, /out/);
    const udp = background(`${box.prefix}-internet`, ['timeout', '4', 'nc', '-n', '-u', '-l', '-p', '9091']);
    await pause(300);
    for (let i = 0; i < 3; i++) await box.exec(instanceId, ['sh', '-c', 'echo datagram | nc -n -u -w 1 198.18.0.10 9091']);
    assert.match(await udp, /datagram/);
    // The internet cannot open a connection to the instance through the NAT EIP (no DNAT rule yet).
    assert.notEqual((await internet('nc', '-n', '-z', '-w', '1', natIp, '80')).code, 0);
  });

  it('forwards a public port to the instance (DNAT); the instance sees the client', async () => {
    await box.vpc.CreateNatGatewayDestinationIpPortTranslationNatRule({
      NatGatewayId: natId,
      DestinationIpPortTranslationNatRules: [{ IpProtocol: 'TCP', PublicIpAddress: natIp, PublicPort: 8080, PrivateIpAddress: privateIp, PrivatePort: 80, Description: 'web' }],
    });
    const inbound = background(`${box.prefix}-${instanceId}`, ['timeout', '15', 'nc', '-n', '-v', '-l', '-p', '80']);
    await pause(300);
    await until('internet → EIP:8080', async () => (await run(['exec', '--data-dir', box.dataDir, 'internet', '--', 'sh', '-c', `echo hello | nc -n -w 1 ${natIp} 8080`])).code === 0, 15_000);
    const seen = await inbound;
    assert.match(seen, /Connection received on 198\.18\.0\.10 /);
    assert.match(seen, /hello/);
  });

  it('keeps a download through the NAT gateway going while each gateway node fails and recovers in turn', async () => {
    // The internet client streams 64 KiB every 20 ms for 12 s (~38 MB); the instance counts what arrives.
    const total = 600 * 65536;
    const server = `const net=require('net');net.createServer(s=>{let n=0;const b=Buffer.alloc(65536,120);const t=setInterval(()=>{s.write(b);if(++n===600){clearInterval(t);s.end();}},20);}).listen(7070,'198.18.0.10');`;
    const srv = spawn('ip', ['netns', 'exec', `${box.prefix}-internet`, process.execPath, '-e', server], { stdio: 'ignore' });
    try {
      await listening(7070);
      const download = box.exec(instanceId, ['sh', '-c', 'nc -n -w 10 198.18.0.10 7070 | wc -c'], 60_000);
      // Both nodes hold the session: the one carrying it, and the other by conntrackd (wait: under load the
      // connection and its sync can take more than a second).
      for (const gw of ['gw1', 'gw2']) await until(`${gw} holds the session`, async () => /dport=7070/.test(sessions(gw)), 10_000);
      await failEachGateway(box);
      const got = await download;
      assert.equal(got.code, 0, got.out);
      assert.equal(Number(got.out.trim()), total, 'every byte arrived');
    } finally {
      srv.kill();
    }
  });

  it('counts what each private address sends through the NAT gateway, per minute (flow monitor)', async () => {
    await box.vpc.EnableGatewayFlowMonitor({ GatewayId: natId });
    /**
     * The address's figures per minute from a fixed first minute (two before the test) to now: a fixed start,
     * so a minute of earlier tests' traffic never slides out of the sum between the two readings.
     */
    const since = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000;
    const recent = async () => {
      const rows = [];
      for (let at = since; at <= Date.now(); at += 60_000) {
        const m = new Date(at).toISOString().replace('T', ' ').slice(0, 17) + '00';
        const d = await box.vpc.DescribeGatewayFlowMonitorDetail({ TimePoint: m, NatId: natId });
        rows.push(...(d.GatewayFlowMonitorDetailSet ?? []).filter((x) => x.PrivateIpAddress === privateIp));
      }
      return rows;
    };
    const sum = (rows: Awaited<ReturnType<typeof recent>>, k: 'OutTraffic' | 'OutPkg' | 'InTraffic' | 'InPkg') => rows.reduce((a, r) => a + (r[k] ?? 0), 0);
    // A node's first report of the address sets its counters' base; only then is what follows counted. After the
    // failovers above either node may carry the flow, so a first transfer is sent and seen counted before the measured one.
    await until('the first report', async () => (await recent()).length > 0, 60_000);
    const warm = sum(await recent(), 'OutTraffic');
    /** Sends `bytes` from the instance to a sink on the internet (started and listening first); what the sink got. */
    const sendOut = async (bytes: number) => {
      const sink = background(`${box.prefix}-internet`, ['timeout', '20', 'sh', '-c', 'nc -n -l -p 9100 | wc -c']);
      await listening(9100);
      const sent = await box.exec(instanceId, ['sh', '-c', `head -c ${bytes} /dev/zero | nc -N -w 2 198.18.0.10 9100`]);
      assert.equal(sent.code, 0, sent.out);
      return Number((await sink).trim());
    };
    await until('a warm-up transfer counted', async () => {
      await sendOut(100_000);
      await pause(5_000);
      return sum(await recent(), 'OutTraffic') > warm;
    }, 90_000);
    const before = sum(await recent(), 'OutTraffic');
    assert.equal(await sendOut(2_000_000), 2_000_000, 'the internet received it all');
    let last: Awaited<ReturnType<typeof recent>> = [];
    const rows = await until('the figures reported', async () => {
      last = await recent();
      return sum(last, 'OutTraffic') - before >= 2_000_000 && last;
    }, 60_000).catch((e: Error) => assert.fail(`${e.message}: OutTraffic ${sum(last, 'OutTraffic')} - ${before}; rows ${JSON.stringify(last)}`));
    // What was sent, plus the TCP/IP headers of its segments (and the odd ping), no more.
    const out = sum(rows, 'OutTraffic') - before;
    assert.ok(out >= 2_000_000 && out < 2_200_000, `OutTraffic ${out}`);
    assert.ok(sum(rows, 'OutPkg') >= 2_000_000 / 65536, `OutPkg ${sum(rows, 'OutPkg')}`);
    assert.ok(sum(rows, 'InPkg') > 0 && sum(rows, 'InTraffic') > 0, 'the ACKs came back');
  });

  it('caps one private address (ModifyGatewayFlowQos), and blocks one with 0', async () => {
    await box.vpc.ModifyGatewayFlowQos({ GatewayId: natId, Bandwidth: 2, IpAddresses: [privateIp] });
    await pause(3000);
    const server = spawn('ip', ['netns', 'exec', `${box.prefix}-internet`, 'iperf3', '-s', '-1', '-p', '5301'], { stdio: 'ignore' });
    try {
      await pause(300);
      const out = execFileSync('ip', ['netns', 'exec', `${box.prefix}-${instanceId}`, 'iperf3', '-c', '198.18.0.10', '-p', '5301', '-P', '2', '-t', '6', '-O', '2', '-J'], { encoding: 'utf8', timeout: 40_000 });
      const mbps = (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6;
      assert.ok(mbps <= 2 * 1.05 && mbps >= 2 * 0.7, `${mbps.toFixed(2)} Mbit/s under a 2 Mbit/s cap`);
    } finally {
      server.kill();
    }
    await box.vpc.ModifyGatewayFlowQos({ GatewayId: natId, Bandwidth: 0, IpAddresses: [privateIp] });
    await until('blocked', async () => (await box.exec(instanceId, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code !== 0, 15_000);
    await box.vpc.ModifyGatewayFlowQos({ GatewayId: natId, Bandwidth: -1, IpAddresses: [privateIp] });
    await until('unblocked', async () => (await box.exec(instanceId, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code === 0, 15_000);
  });

  it('holds the NAT EIP to its own limit', async () => {
    const eipId = (await box.vpc.DescribeAddresses({ Filters: [{ Name: 'address-ip', Values: [natIp] }] })).AddressSet![0]!.AddressId!;
    await box.vpc.ModifyAddressesBandwidth({ AddressIds: [eipId], InternetMaxBandwidthOut: 5 });
    await pause(3000);
    const server = spawn('ip', ['netns', 'exec', `${box.prefix}-internet`, 'iperf3', '-s', '-1', '-p', '5302'], { stdio: 'ignore' });
    try {
      await pause(300);
      const out = execFileSync('ip', ['netns', 'exec', `${box.prefix}-${instanceId}`, 'iperf3', '-c', '198.18.0.10', '-p', '5302', '-P', '2', '-t', '6', '-O', '2', '-J'], { encoding: 'utf8', timeout: 40_000 });
      const mbps = (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6;
      assert.ok(mbps <= 5 * 1.05 && mbps >= 5 * 0.7, `${mbps.toFixed(2)} Mbit/s through a NAT EIP limited to 5 Mbit/s`);
    } finally {
      server.kill();
      await box.vpc.ModifyAddressesBandwidth({ AddressIds: [eipId], InternetMaxBandwidthOut: 100 });
    }
  });

  it("routes by the table first: an EIP instance behind 0.0.0.0/0 → NAT leaves as the NAT EIP, and as its own EIP for a route of GatewayType EIP", async () => {
    const eipId = (await box.vpc.AllocateAddresses({ AddressCount: 1, InternetMaxBandwidthOut: 100 })).AddressSet![0]!;
    await box.vpc.AssociateAddress({ AddressId: eipId, InstanceId: instanceId });
    const own = (await box.vpc.DescribeAddresses({ AddressIds: [eipId] })).AddressSet![0]!.AddressIp!;
    const seenAs = async (port: number) => {
      const seen = background(`${box.prefix}-internet`, ['timeout', '8', 'nc', '-n', '-v', '-l', '-p', String(port)]);
      await pause(300);
      await box.exec(instanceId, ['sh', '-c', `echo hi | nc -n -w 1 198.18.0.10 ${port}`]);
      return /Connection received on (\S+) /.exec(await seen)?.[1];
    };
    await pause(3000);
    assert.equal(await seenAs(9200), natIp, 'the table (0.0.0.0/0 → NAT) wins over the EIP');
    const table = (await box.vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).RouteTableSet![0]!.RouteTableId!;
    const bad = await box.vpc.CreateRoutes({ RouteTableId: table, Routes: [{ DestinationCidrBlock: '198.18.0.0/24', GatewayType: 'EIP', GatewayId: 'eip-x' }] }).catch((e: { code: string }) => e.code);
    assert.equal(bad, 'InvalidParameterValue.RouteNextHopInvalid');
    await box.vpc.CreateRoutes({ RouteTableId: table, Routes: [{ DestinationCidrBlock: '198.18.0.0/24', GatewayType: 'EIP', GatewayId: '0' }] });
    await until('the EIP route in effect', async () => (await seenAs(9201)) === own, 20_000);
    const routes = (await box.vpc.DescribeRouteTables({ RouteTableIds: [table] })).RouteTableSet![0]!.RouteSet!;
    await box.vpc.DeleteRoutes({ RouteTableId: table, Routes: routes.filter((r) => r.GatewayType === 'EIP') });
    await box.vpc.DisassociateAddress({ AddressId: eipId });
  });

  it('drops what no SNAT rule covers, and lets the VPC go from the gateways when the NAT gateway is deleted', async () => {
    const rules = await box.vpc.DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: natId });
    await box.vpc.DeleteNatGatewaySourceIpTranslationNatRule({ NatGatewayId: natId, NatGatewaySnatIds: rules.SourceIpTranslationNatRuleSet!.map((r) => r.NatGatewaySnatId!) });
    await until('no SNAT: no internet', async () => (await box.exec(instanceId, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code !== 0, 15_000);
  });
});
