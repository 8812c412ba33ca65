/**
 * Metrics end to end, as root: bytes sent between two instances of a region
 * in a box (on two hosts) move the per-instance counters of GET /metrics and
 * GetMonitorData by what was sent, and a connection the security group
 * refuses moves the receiver's SG drop counter, one a network ACL drops its
 * ACL drop counter; bytes an instance sends to the internet through its EIP
 * move the EIP's counters on the gateway nodes and QCE/LB VipOuttraffic.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as MonitorClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/monitor/v20180724/monitor_client.js';
import { background, isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, type Creds } from '../helpers/region.js';

const SENT = 20_000_000;

describe(`metrics in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  let monitor: MonitorClient;
  let endpoint = '';
  const id: Record<'a' | 'b', string> = { a: '', b: '' };
  const ip: Record<'a' | 'b', string> = { a: '', b: '' };
  const subnet: Record<'a' | 'b', string> = { a: '', b: '' };
  let vpcId = '';

  const metricsText = () =>
    new Promise<string>((ok, fail) =>
      request(`http://${endpoint}/metrics`, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => ok(t));
      })
        .on('error', fail)
        .end(),
    );
  /** A per-instance (or per-EIP) counter's value, summed over hosts, or undefined before its first figures. */
  const counter = async (name: string, instance: string, label = 'instance') => {
    const values = [...(await metricsText()).matchAll(new RegExp(`^${name}\\{${label}="${instance.replace(/\./g, '\\.')}",host="[^"]+"\\} (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
    return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
  };
  const monitorBytes = async (metric: 'LanOuttraffic' | 'LanIntraffic', instance: string, since: number) => {
    const d = await monitor.GetMonitorData({
      Namespace: 'QCE/CVM',
      MetricName: metric,
      Period: 10,
      StartTime: new Date(since * 1000).toISOString(),
      EndTime: new Date().toISOString(),
      Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: instance }] }],
    });
    // Mbps over 10 s buckets back to bytes.
    return (d.DataPoints![0]!.Values ?? []).reduce((n, v) => n + (v * 1e6 * 10) / 8, 0);
  };

  before(async () => {
    box = await startBox(2, { WEFT_COUNTER_PERIOD_MS: '2000' }, 2);
    const creds = JSON.parse(readFileSync(join(box.dataDir, 'credentials.json'), 'utf8')) as Creds;
    endpoint = creds.Endpoint;
    monitor = new MonitorClient({ credential: { secretId: creds.SecretId, secretKey: creds.SecretKey }, region: 'local', profile: { httpProfile: { endpoint, protocol: 'http://', reqTimeout: 30 } } });
    vpcId = (await box.vpc.CreateVpc({ VpcName: 'm', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const sg = (await box.vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'm',
      GroupDescription: 'tcp 5001 and icmp in, all out',
      SecurityGroupPolicySet: {
        Ingress: [
          { Protocol: 'TCP', Port: '5001', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          { Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
        ],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
    for (const [k, zone, cidr] of [['a', 'local-1', '10.0.1.0/24'], ['b', 'local-2', '10.0.2.0/24']] as const) {
      const subnetId = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: k, CidrBlock: cidr, Zone: zone })).Subnet!.SubnetId!;
      subnet[k] = subnetId;
      id[k] = (await box.cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, SecurityGroupIds: [sg] })).InstanceIdSet![0]!;
    }
    const running = await until('instances RUNNING', async () => {
      const r = await box.cvm.DescribeInstances({ InstanceIds: [id.a, id.b] });
      return r.InstanceSet!.every((i) => i.InstanceState === 'RUNNING') && r.InstanceSet;
    }, 60_000);
    for (const i of running) ip[i.InstanceId === id.a ? 'a' : 'b'] = i.PrivateIpAddresses![0]!;
    await until('a reaches b', async () => (await box.exec(id.a, ['ping', '-c', '1', '-W', '1', ip.b])).code === 0, 15_000);
    box.spawnIn(id.b, ['sh', '-c', 'nc -l -k 5001 > /dev/null']);
  });
  after(async () => box?.down());

  it('counts the bytes sent from a to b on both ports, in /metrics and in GetMonitorData', async () => {
    // Both series exist once the agents' first two readings are in.
    await until('counters of a and b', async () => (await counter('weft_instance_out_bytes_total', id.a)) !== undefined && (await counter('weft_instance_in_bytes_total', id.b)) !== undefined, 20_000);
    const since = Math.floor(Date.now() / 1000) - 1;
    const outBefore = (await counter('weft_instance_out_bytes_total', id.a))!;
    const inBefore = (await counter('weft_instance_in_bytes_total', id.b))!;
    const pktBefore = (await counter('weft_instance_out_packets_total', id.a))!;
    const monBefore = await monitorBytes('LanOuttraffic', id.a, since);
    const sent = await box.exec(id.a, ['sh', '-c', `head -c ${SENT} /dev/zero | nc -N -w 5 ${ip.b} 5001`], 30_000);
    assert.equal(sent.code, 0, `nc: ${sent.out}`);
    // TCP/IP and Ethernet headers add ~4.5 % at a 1448-byte MSS; nothing else runs in the instances.
    const within = (v: number) => v >= SENT && v <= SENT * 1.08;
    const out = await until('a out_bytes moved by what was sent', async () => {
      const v = (await counter('weft_instance_out_bytes_total', id.a))! - outBefore;
      return within(v) && v;
    }, 20_000);
    const inB = await until('b in_bytes moved by what was sent', async () => {
      const v = (await counter('weft_instance_in_bytes_total', id.b))! - inBefore;
      return within(v) && v;
    }, 20_000);
    const pkts = (await counter('weft_instance_out_packets_total', id.a))! - pktBefore;
    // The veth counts packets as the stack hands them over: with GSO a packet carries up to 64 KiB, not one MTU
    // (docs/operations.md); at least one per 64 KiB, at most one per full-size frame.
    assert.ok(pkts >= SENT / 65536 && pkts <= SENT / 1000, `a sent ${pkts} packets for ${SENT} bytes`);
    console.log(`# sent ${SENT} bytes: a out ${out}, b in ${inB}, a out packets ${pkts}`);
    const mon = await until('GetMonitorData LanOuttraffic of a covers what was sent', async () => {
      const v = (await monitorBytes('LanOuttraffic', id.a, since)) - monBefore;
      return within(v) && v;
    }, 20_000);
    const monIn = await monitorBytes('LanIntraffic', id.b, since);
    assert.ok(within(monIn), `GetMonitorData LanIntraffic of b: ${monIn} bytes`);
    console.log(`# GetMonitorData: a LanOuttraffic ${mon} bytes, b LanIntraffic ${monIn} bytes`);
    const per60 = await monitor.GetMonitorData({
      Namespace: 'QCE/CVM',
      MetricName: 'LanOutpkg',
      Period: 60,
      StartTime: new Date((since - 60) * 1000).toISOString(),
      Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: id.a }] }],
    });
    const p = per60.DataPoints![0]!;
    assert.ok(p.Timestamps!.every((t) => t % 60 === 0) && p.Values!.some((v) => v > 0), `60 s points: ${JSON.stringify(p)}`);
  });

  it('counts a connection the security group refuses as SG drops of the receiver', async () => {
    const before_ = (await counter('weft_instance_sg_drop_packets_total', id.b)) ?? 0;
    const r = await box.exec(id.a, ['nc', '-z', '-w', '2', ip.b, '5002']);
    assert.notEqual(r.code, 0, 'tcp 5002 is not allowed in');
    const moved = await until('b sg drops moved', async () => {
      const v = ((await counter('weft_instance_sg_drop_packets_total', id.b)) ?? 0) - before_;
      return v >= 1 && v;
    }, 15_000);
    // A SYN and its retransmissions within 2 s: a handful, not thousands.
    assert.ok(moved <= 5, `${moved} drops for one refused connection`);
    assert.equal((await counter('weft_instance_acl_drop_packets_total', id.b)) ?? 0, 0, 'no ACL here');
  });

  it('counts a packet a network ACL drops as an ACL drop of the receiver, not an SG drop', async () => {
    const acl = (await box.vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'b' })).NetworkAcl!.NetworkAclId!;
    // icmp only: tcp 5001, which the security group allows, is dropped at b's subnet boundary.
    await box.vpc.ModifyNetworkAclEntries({
      NetworkAclId: acl,
      NetworkAclEntrySet: { Ingress: [{ Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }] },
    });
    await box.vpc.AssociateNetworkAclSubnets({ NetworkAclId: acl, SubnetIds: [subnet.b] });
    await until('the ACL is in force', async () => (await box.exec(id.a, ['nc', '-z', '-w', '1', ip.b, '5001'])).code !== 0, 20_000);
    // Quiet: no retransmission of the probes above still in flight.
    await new Promise((ok) => setTimeout(ok, 3000));
    const sgBefore = (await counter('weft_instance_sg_drop_packets_total', id.b)) ?? 0;
    const aclBefore = await until('b ACL drops counted', async () => {
      const v = await counter('weft_instance_acl_drop_packets_total', id.b);
      return v !== undefined && v >= 1 && v;
    }, 15_000);
    const r = await box.exec(id.a, ['nc', '-z', '-w', '2', ip.b, '5001']);
    assert.notEqual(r.code, 0, 'tcp 5001 is dropped by the ACL');
    const moved = await until('b ACL drops moved', async () => {
      const v = ((await counter('weft_instance_acl_drop_packets_total', id.b)) ?? 0) - aclBefore;
      return v >= 1 && v;
    }, 15_000);
    assert.ok(moved <= 5, `${moved} ACL drops for one refused connection`);
    assert.equal(((await counter('weft_instance_sg_drop_packets_total', id.b)) ?? 0) - sgBefore, 0, 'the ACL dropped it before the security group saw it');
  });

  it("counts what an instance sends to the internet through its EIP on the gateway nodes, and QCE/LB VipOuttraffic follows", async () => {
    // 100 Mbit/s: carried by any gateway (a small limit is pinned to one node).
    const eipId = (await box.vpc.AllocateAddresses({ AddressCount: 1, InternetMaxBandwidthOut: 100 })).AddressSet![0]!;
    await box.vpc.AssociateAddress({ AddressId: eipId, InstanceId: id.a });
    const publicIp = (await box.vpc.DescribeAddresses({ AddressIds: [eipId] })).AddressSet![0]!.AddressIp!;
    await until('a reaches the internet through its EIP', async () => (await box.exec(id.a, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code === 0, 30_000);
    await until('EIP counters on the gateways', async () => (await counter('weft_eip_out_bytes_total', publicIp, 'eip')) !== undefined, 20_000);
    const since = Math.floor(Date.now() / 1000) - 1;
    const before_ = (await counter('weft_eip_out_bytes_total', publicIp, 'eip'))!;
    const received = background(`${box.prefix}-internet`, ['timeout', '20', 'sh', '-c', 'nc -n -l -p 9090 | wc -c']);
    await new Promise((ok) => setTimeout(ok, 300));
    const BYTES = 5_000_000;
    const sent = await box.exec(id.a, ['sh', '-c', `head -c ${BYTES} /dev/zero | nc -n -N -w 5 198.18.0.10 9090`], 30_000);
    assert.equal(sent.code, 0, `nc: ${sent.out}`);
    assert.equal(Number((await received).trim()), BYTES, 'the client got it all');
    const within = (v: number) => v >= BYTES && v <= BYTES * 1.08;
    const moved = await until('EIP out bytes moved by what was sent', async () => {
      const v = (await counter('weft_eip_out_bytes_total', publicIp, 'eip'))! - before_;
      return within(v) && v;
    }, 20_000);
    const mon = await until('VipOuttraffic covers what was sent', async () => {
      const d = await monitor.GetMonitorData({ Namespace: 'QCE/LB', MetricName: 'VipOuttraffic', Period: 10, StartTime: new Date(since * 1000).toISOString(), Instances: [{ Dimensions: [{ Name: 'eip', Value: publicIp }] }] });
      const v = (d.DataPoints![0]!.Values ?? []).reduce((n, x) => n + (x * 1e6 * 10) / 8, 0);
      return within(v) && v;
    }, 20_000);
    console.log(`# sent ${BYTES} bytes to the internet: EIP out ${moved} bytes, VipOuttraffic ${mon} bytes`);
  });
});
