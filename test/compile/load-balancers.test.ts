import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost, lbMac, lbNodeMac, type HostSpan } from '../../src/compile/compile.js';
import { healthCheckSpec } from '../../src/compile/load-balancers.js';
import { probeSets, simHealth } from '../../src/agent/health-checks.js';
import type { LbHealthReport } from '../../src/contract/agent-report.js';

const A = 'vpc-aaaaaaaa';
const ins = (id: string, ip: string, host: string) => ({ id, vpc_id: A, subnet_id: 'subnet-a', private_ip: ip, mac: `52:54:00:00:00:${id.slice(-2)}`, host_id: host, state: 'RUNNING' });
const check = (o: object = {}) => JSON.stringify({ HealthSwitch: 1, CheckType: 'TCP', IntervalTime: 3, TimeOut: 2, HealthNum: 2, UnHealthNum: 2, CheckPort: -1, ...o });

/** VPC A: two backends on h1, an internal and a public load balancer, two LB nodes; lb1 finds 10.0.1.12 dead, lb2 has not said. */
const span = (host: HostSpan['host']): HostSpan => ({
  host,
  revision: 7,
  underlays: { h1: '100.64.0.11' },
  vpcs: [{ id: A, vni: 100, cidr: '10.0.0.0/16' }],
  instances: [ins('ins-a1', '10.0.1.11', 'h1'), ins('ins-a2', '10.0.1.12', 'h1')],
  subnets: [{ id: 'subnet-a', vpc_id: A, cidr: '10.0.1.0/24' }],
  bindings: [],
  policies: [],
  loadBalancers: [
    { id: 'lb-bbbbbbbb', vpc_id: A, vip: '198.51.100.9', type: 'OPEN' },
    { id: 'lb-aaaaaaaa', vpc_id: A, vip: '10.0.1.100', type: 'INTERNAL' },
  ],
  lbNodes: [
    { id: 'lb1', underlay: '100.64.2.11' },
    { id: 'lb2', underlay: '100.64.2.12' },
  ],
  lbListeners: [
    { id: 'lbl-udp00000', load_balancer_id: 'lb-aaaaaaaa', protocol: 'UDP', port: 53, health_check: JSON.stringify({ HealthSwitch: 0 }) },
    { id: 'lbl-tcp00000', load_balancer_id: 'lb-aaaaaaaa', protocol: 'TCP', port: 80, health_check: check() },
  ],
  lbTargets: [
    { listener_id: 'lbl-tcp00000', load_balancer_id: 'lb-aaaaaaaa', instance_id: 'ins-a2', private_ip: '10.0.1.12', port: 8080, weight: 10 },
    { listener_id: 'lbl-tcp00000', load_balancer_id: 'lb-aaaaaaaa', instance_id: 'ins-a1', private_ip: '10.0.1.11', port: 8080, weight: 0 },
    { listener_id: 'lbl-udp00000', load_balancer_id: 'lb-aaaaaaaa', instance_id: 'ins-a1', private_ip: '10.0.1.11', port: 5353, weight: 10 },
  ],
  lbHealth: [
    { listener_id: 'lbl-tcp00000', private_ip: '10.0.1.12', port: 8080, status: 'Dead' },
    { listener_id: 'lbl-tcp00000', private_ip: '10.0.1.11', port: 8080, status: 'Alive' },
  ],
});

describe('compiler: load balancers', () => {
  it("gives an LB node the VPC's load balancers, sorted, with targets' weights and what the health checks say", () => {
    const doc = compileHost(span({ id: 'lb2', underlay: '100.64.2.12', role: 'lb' }));
    assert.equal(doc.role, 'lb');
    assert.equal(doc.lbNode, 2);
    const vpc = doc.vpcs[0]!;
    assert.equal(vpc.routerMac, lbMac(100), 'the cluster MAC, the same on every node');
    assert.deepEqual(vpc.ports, []);
    assert.deepEqual(vpc.remotes.map((r) => r.ip), ['10.0.1.11', '10.0.1.12']);
    assert.deepEqual(vpc.loadBalancers!.map((l) => [l.loadBalancerId, l.vip, l.public]), [
      ['lb-aaaaaaaa', '10.0.1.100', false],
      ['lb-bbbbbbbb', '198.51.100.9', true],
    ]);
    const [tcp, udp] = vpc.loadBalancers![0]!.listeners;
    assert.deepEqual([tcp!.protocol, tcp!.port, udp!.protocol, udp!.port], ['tcp', 80, 'udp', 53], 'by protocol, then port');
    assert.equal(tcp!.tableSize, 65537);
    assert.deepEqual(tcp!.targets, [
      { ip: '10.0.1.11', port: 8080, instanceId: 'ins-a1', weight: 0, healthy: true },
      { ip: '10.0.1.12', port: 8080, instanceId: 'ins-a2', weight: 10, healthy: false },
    ]);
    assert.deepEqual(tcp!.healthCheck, { type: 'tcp', intervalMs: 3000, timeoutMs: 2000, rise: 2, fall: 2 });
    assert.equal(udp!.healthCheck, undefined, 'checks off');
    assert.deepEqual(udp!.targets, [{ ip: '10.0.1.11', port: 5353, instanceId: 'ins-a1', weight: 10 }], 'no health verdict when checks are off');
  });

  it("routes the internal VIPs of a host's VPC to the LB cluster, and names every node for the way back", () => {
    const doc = compileHost({ ...span({ id: 'h1', underlay: '100.64.0.11' }), lbListeners: [], lbTargets: [], lbHealth: [] });
    const vpc = doc.vpcs[0]!;
    assert.equal(doc.role, undefined);
    assert.deepEqual(vpc.lbVips, { vips: ['10.0.1.100'], underlay: '100.64.254.1', routerMac: lbMac(100) });
    assert.deepEqual(vpc.lbNodes, [
      { node: 1, mac: lbNodeMac(100, 1), underlay: '100.64.2.11' },
      { node: 2, mac: lbNodeMac(100, 2), underlay: '100.64.2.12' },
    ]);
    assert.equal(vpc.loadBalancers, undefined);
  });

  it('leaves hosts alone when the region has no LB nodes', () => {
    const vpc = compileHost({ ...span({ id: 'h1', underlay: '100.64.0.11' }), lbNodes: [] }).vpcs[0]!;
    assert.equal(vpc.lbVips, undefined);
    assert.equal(vpc.lbNodes, undefined);
  });

  it("reads Tencent's stored HealthCheck: HTTP with its path, domain, method and codes; PING for UDP by default; a check port", () => {
    assert.deepEqual(healthCheckSpec(check({ CheckType: 'HTTP', HttpCheckPath: '/ok', HttpCheckDomain: 'a.example', HttpCheckMethod: 'get', HttpCode: 6, CheckPort: 81 }), 'tcp'), {
      type: 'http', intervalMs: 3000, timeoutMs: 2000, rise: 2, fall: 2, port: 81, httpPath: '/ok', httpDomain: 'a.example', httpMethod: 'GET', httpCodes: 6,
    });
    assert.equal(healthCheckSpec(JSON.stringify({ HealthSwitch: 1 }), 'udp')!.type, 'ping');
    assert.equal(healthCheckSpec(JSON.stringify({ HealthSwitch: 0 }), 'tcp'), undefined);
  });

  it("makes an LB node's probe sets per VPC from its health-checked listeners; the sim reports them all alive", () => {
    const doc = compileHost(span({ id: 'lb1', underlay: '100.64.2.11', role: 'lb' }));
    const sets = probeSets(doc);
    assert.deepEqual([...sets.keys()], [A]);
    assert.equal(sets.get(A)!.source, '100.64.253.11');
    assert.deepEqual(sets.get(A)!.probes.map((p) => `${p.listenerId} ${p.ip}:${p.port}`), ['lbl-tcp00000 10.0.1.11:8080', 'lbl-tcp00000 10.0.1.12:8080']);
    const reports: LbHealthReport[] = [];
    const sim = simHealth((r) => reports.push(r));
    sim.update(doc);
    sim.update(doc);
    assert.equal(reports.length, 1, 'reported once: nothing changed the second time');
    assert.deepEqual(reports[0]!.targets.map((t) => t.status), ['Alive', 'Alive']);
  });
});
