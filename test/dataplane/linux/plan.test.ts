import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostDocument } from '../../../src/contract/host-document.js';
import { planHost, portSysctls, type DriverContext, type Step, type StepGroup } from '../../../src/dataplane/linux/plan.js';
import type { HostState, RouterState } from '../../../src/dataplane/linux/state.js';
import { converged } from './converged.js';
import { richDocument } from './fixtures.js';
import { OPEN, allow, hostDocument, type HostSpec, type VpcSpec } from './world.js';

const ctx: DriverContext = { prefix: 'wtab', hostName: 'h1', hostNs: 'wtab-h1' };
const R = 'wtab-h1-vpc-rich0001';

const stepsOf = (groups: StepGroup[]) => groups.flatMap((g) => g.steps);
const linesOf = (groups: StepGroup[], kind: Step['kind'], ns?: string | null) =>
  stepsOf(groups)
    .filter((s) => s.kind === kind && (ns === undefined || s.ns === ns))
    .flatMap((s) => s.lines);

test('a kernel that already matches gets an empty plan', () => {
  const doc = richDocument();
  const groups = planHost(doc, converged(doc), ctx);
  assert.deepEqual(groups.map((g) => [g.vpcId, g.error, g.steps]), [['vpc-rich0001', undefined, []]]);
});

test('an empty host gets the whole router: namespaces, tunnel made in the host ns and moved, ports, routes, neighbours, FDB, sysctls, rules', () => {
  const doc = richDocument();
  const actual: HostState = { namespaces: ['wtab-fab', 'wtab-h1'], hostLinks: [], routers: {} };
  const steps = stepsOf(planHost(doc, actual, ctx));
  assert.deepEqual(
    steps.map((s) => `${s.kind} ${s.ns}`),
    [
      'netns-add null',
      `sysctl ${R}`,
      `nft ${R}`,
      'ip wtab-h1',
      `ip ${R}`,
      `bridge ${R}`,
      `sysctl ${R}`,
      'ip wtab-ins-00000001',
      'ip wtab-ins-00000002',
      'ip wtab-ins-00000003',
    ],
  );
  assert.deepEqual(steps[0]!.lines, [R, 'wtab-ins-00000001', 'wtab-ins-00000002', 'wtab-ins-00000003']);
  assert.deepEqual(steps[3]!.lines, [
    'link add vx4242 address 02:01:00:10:92:fe mtu 1500 type vxlan id 4242 local 100.64.0.11 dstport 4789 nolearning',
    `link set vx4242 netns ${R}`,
  ]);
  const main = steps[4]!.lines;
  assert.deepEqual(main.slice(0, 2), [
    'link add p00000001 mtu 1500 type veth peer name eth0 netns wtab-ins-00000001 address 0a:92:0a:00:01:05 mtu 1500',
    'link set p00000001 alias weft:ins-00000001,10.0.1.5/24,0a:92:0a:00:01:05,10.0.1.1,eth0',
  ]);
  for (const line of [
    'link set lo up',
    'link set vx4242 up',
    'link set p00000002 up',
    'addr add 10.0.1.1/32 dev lo',
    'addr add 10.0.2.1/32 dev lo',
    'route replace 10.0.1.5/32 dev p00000001',
    'route replace 10.0.2.21/32 via 10.0.2.21 dev vx4242 onlink',
    'neigh replace 10.0.2.6 lladdr 0a:92:0a:00:02:06 dev p00000002 nud permanent',
    'neigh replace 10.0.1.30 lladdr 02:03:00:10:92:fe dev vx4242 nud permanent',
  ])
    assert.ok(main.includes(line), line);
  assert.deepEqual(steps[5]!.lines, [
    'fdb replace 02:02:00:10:92:fe dev vx4242 dst 100.64.0.12 self permanent',
    'fdb replace 02:03:00:10:92:fe dev vx4242 dst 100.64.0.13 self permanent',
  ]);
  assert.ok(steps[1]!.lines.includes('net.ipv4.ip_forward=1'));
  assert.ok(steps[6]!.lines.includes('net.ipv4.conf.p00000003.proxy_arp=1'));
  assert.ok(steps[6]!.lines.includes('net.ipv4.neigh.p00000003.proxy_delay=0'));
  assert.deepEqual(steps[7]!.lines, ['addr add 10.0.1.5/24 dev eth0', 'link set eth0 up', 'link set lo up', 'route replace default via 10.0.1.1 dev eth0']);
});

test('drift: a route, a neighbour, an FDB entry, an address, a sysctl and a link deleted or changed by hand are put back, and only they', () => {
  const doc = richDocument();
  const cases: [string, (r: RouterState) => void, [Step['kind'], string[]][]][] = [
    ['route deleted', (r) => r.routes.splice(0, 1), [['ip', ['route replace 10.0.1.5/32 dev p00000001']]]],
    [
      'route changed',
      (r) => (r.routes[3] = { ...r.routes[3]!, gateway: undefined, onlink: false }),
      [['ip', ['route replace 10.0.1.20/32 via 10.0.1.20 dev vx4242 onlink']]],
    ],
    ['extra route', (r) => r.routes.push({ dst: '0.0.0.0/0', type: 'unicast', dev: 'vx4242', onlink: false, protocol: 'static' }), [['ip', ['route del 0.0.0.0/0 dev vx4242']]]],
    ['extra blackhole', (r) => r.routes.push({ dst: '10.9.0.0/16', type: 'blackhole', onlink: false, protocol: 'static' }), [['ip', ['route del blackhole 10.9.0.0/16']]]],
    ['neighbour deleted', (r) => r.neighbours.splice(1, 1), [['ip', ['neigh replace 10.0.2.6 lladdr 0a:92:0a:00:02:06 dev p00000002 nud permanent']]]],
    ['neighbour gone stale', (r) => (r.neighbours[1] = { ...r.neighbours[1]!, permanent: false }), [['ip', ['neigh replace 10.0.2.6 lladdr 0a:92:0a:00:02:06 dev p00000002 nud permanent']]]],
    ['extra permanent neighbour', (r) => r.neighbours.push({ dst: '10.0.1.77', dev: 'vx4242', lladdr: '02:00:00:00:00:01', permanent: true }), [['ip', ['neigh del 10.0.1.77 dev vx4242']]]],
    [
      'FDB entry pointing elsewhere',
      (r) => (r.fdb[0] = { ...r.fdb[0]!, dst: '100.64.0.99' }),
      [['bridge', ['fdb del 02:02:00:10:92:fe dev vx4242 dst 100.64.0.99 self', 'fdb replace 02:02:00:10:92:fe dev vx4242 dst 100.64.0.12 self permanent']]],
    ],
    ['flood entry added', (r) => r.fdb.push({ mac: '00:00:00:00:00:00', dev: 'vx4242', dst: '100.64.0.50', permanent: true }), [['bridge', ['fdb del 00:00:00:00:00:00 dev vx4242 dst 100.64.0.50 self']]]],
    ['gateway removed from lo', (r) => r.loAddrs.splice(0, 1), [['ip', ['addr add 10.0.1.1/32 dev lo']]]],
    ['address added to lo', (r) => r.loAddrs.push('10.0.9.1/32'), [['ip', ['addr del 10.0.9.1/32 dev lo']]]],
    ['proxy_arp off', (r) => (r.sysctl['net.ipv4.conf.p00000002.proxy_arp'] = '0'), [['sysctl', ['net.ipv4.conf.p00000002.proxy_arp=1']]]],
    ['forwarding off', (r) => (r.sysctl['net.ipv4.ip_forward'] = '0'), [['sysctl', ['net.ipv4.ip_forward=1']]]],
    ['port down', (r) => (r.links[2]!.up = false), [['ip', ['link set p00000001 up']]]],
    ['tunnel MAC changed', (r) => (r.links[1]!.mac = '02:00:00:00:00:09'), [['ip', ['link set vx4242 address 02:01:00:10:92:fe']]]],
    ['nft rule deleted', (r) => r.nft[0]!.chains.find((c) => c.name === 'sg-a-ingress')!.rules.pop(), [['nft', []]]],
  ];
  for (const [name, mutate, want] of cases) {
    const actual = converged(doc);
    mutate(actual.routers[R]!);
    const steps = stepsOf(planHost(doc, actual, ctx));
    assert.deepEqual(
      steps.map((s) => [s.kind, s.kind === 'nft' ? [] : s.lines]),
      want,
      name,
    );
  }
});

test('a veth deleted by hand is re-plugged: instance side cleared and configured again, its routes, neighbour and sysctls restored', () => {
  const doc = richDocument();
  const actual = converged(doc);
  const r = actual.routers[R]!;
  r.links = r.links.filter((l) => l.name !== 'p00000002');
  // the kernel drops what hung on the link with it
  r.routes = r.routes.filter((x) => x.dev !== 'p00000002');
  r.neighbours = r.neighbours.filter((x) => x.dev !== 'p00000002');
  const steps = stepsOf(planHost(doc, actual, ctx));
  assert.deepEqual(
    steps.map((s) => [s.kind, s.ns, s.lines]),
    [
      ['instance-reset', null, ['wtab-ins-00000002 eth0']],
      [
        'ip',
        R,
        [
          'link add p00000002 mtu 1500 type veth peer name eth0 netns wtab-ins-00000002 address 0a:92:0a:00:02:06 mtu 1500',
          'link set p00000002 alias weft:ins-00000002,10.0.2.6/24,0a:92:0a:00:02:06,10.0.2.1,eth0',
          'link set p00000002 up',
          'route replace 10.0.2.6/32 dev p00000002',
          'neigh replace 10.0.2.6 lladdr 0a:92:0a:00:02:06 dev p00000002 nud permanent',
        ],
      ],
      ['sysctl', R, portSysctls('p00000002').map(([k, v]) => `${k}=${v}`)],
      ['ip', 'wtab-ins-00000002', ['addr add 10.0.2.6/24 dev eth0', 'link set eth0 up', 'link set lo up', 'route replace default via 10.0.2.1 dev eth0']],
    ],
  );
});

test('a port whose instance-side configuration changed is re-plugged; one that left is unplugged and its instance namespace collected', () => {
  const doc = richDocument();
  const actual = converged(doc);
  const vpc = doc.vpcs[0]!;
  vpc.ports[0]!.ip = '10.0.1.50';
  vpc.ports.splice(2, 1); // ins-00000003 leaves the host
  const steps = stepsOf(planHost(doc, actual, ctx));
  const ip = steps.filter((s) => s.kind === 'ip' && s.ns === R).map((s) => s.lines);
  assert.deepEqual(ip[0], ['link del p00000001', 'link del p00000003'], 'deletions come first, in their own batch');
  assert.ok(ip[1]!.includes('link add p00000001 mtu 1500 type veth peer name eth0 netns wtab-ins-00000001 address 0a:92:0a:00:01:05 mtu 1500'));
  assert.ok(ip[1]!.includes('route replace 10.0.1.50/32 dev p00000001'));
  assert.ok(!ip[1]!.some((l) => /route del .* dev p0000000[13]/.test(l)), 'routes on deleted links go with them');
  assert.ok(!ip[1]!.some((l) => l.startsWith('neigh del 10.0.1.5 ')), 'neighbours on deleted links go with them');
  assert.deepEqual(linesOf([{ vpcId: '', removal: false, steps }], 'instance-gc'), ['wtab-ins-00000003']);
  assert.deepEqual(linesOf([{ vpcId: '', removal: false, steps }], 'instance-reset'), ['wtab-ins-00000001 eth0']);
  assert.ok(steps.some((s) => s.kind === 'nft'), 'the anti-spoofing sets follow the new address');
});

test('a port whose instance namespace is gone is re-plugged into a new one', () => {
  const doc = richDocument();
  const actual = converged(doc);
  actual.namespaces = actual.namespaces.filter((n) => n !== 'wtab-ins-00000003');
  const steps = stepsOf(planHost(doc, actual, ctx));
  assert.deepEqual(steps.map((s) => [s.kind, s.lines[0]]), [
    ['netns-add', 'wtab-ins-00000003'],
    ['ip', 'link del p00000003'],
    ['ip', 'link add p00000003 mtu 1500 type veth peer name eth0 netns wtab-ins-00000003 address 0a:92:0a:00:01:07 mtu 1500'],
    ['sysctl', 'net.ipv4.conf.p00000003.forwarding=1'],
    ['ip', 'addr add 10.0.1.7/24 dev eth0'],
  ]);
});

test('a tunnel with the wrong underlay is recreated in the host namespace, and its FDB re-pushed', () => {
  const doc = richDocument();
  const actual = converged(doc);
  actual.routers[R]!.links[1]!.vxlan!.local = '100.64.0.99';
  actual.hostLinks.push({ name: 'vx4242', kind: 'vxlan', mac: '02:00:00:00:00:01', mtu: 1500, up: false }); // a leftover from a crash
  const steps = stepsOf(planHost(doc, actual, ctx));
  assert.deepEqual(linesOf([{ vpcId: '', removal: false, steps }], 'ip', 'wtab-h1'), [
    'link del vx4242',
    'link add vx4242 address 02:01:00:10:92:fe mtu 1500 type vxlan id 4242 local 100.64.0.11 dstport 4789 nolearning',
    `link set vx4242 netns ${R}`,
  ]);
  const routerIp = linesOf([{ vpcId: '', removal: false, steps }], 'ip', R);
  assert.equal(routerIp[0], 'link del vx4242');
  assert.ok(routerIp.includes('route replace 10.0.1.20/32 via 10.0.1.20 dev vx4242 onlink'));
  assert.equal(linesOf([{ vpcId: '', removal: false, steps }], 'bridge').length, 2);
});

test('a VPC gone from the document: its router namespace and instance namespaces are removed; other hosts’ routers are not touched', () => {
  const doc = richDocument();
  const actual = converged(doc);
  actual.routers['wtab-h2-vpc-other001'] = converged(richDocument()).routers[R]!; // h2's, on the same machine
  actual.namespaces.push('wtab-h2-vpc-other001');
  const groups = planHost({ ...doc, vpcs: [] }, actual, ctx);
  assert.deepEqual(groups.map((g) => [g.vpcId, g.removal]), [['vpc-rich0001', true]]);
  assert.deepEqual(
    groups[0]!.steps.map((s) => [s.kind, s.ns, s.lines]),
    [
      ['ip', R, ['link del vx4242', 'link del p00000001', 'link del p00000002', 'link del p00000003']],
      ['netns-del', null, [R]],
      ['instance-gc', null, ['wtab-ins-00000001', 'wtab-ins-00000002', 'wtab-ins-00000003']],
    ],
  );
});

test('a membership change on another host reaches only the member set', () => {
  const doc = richDocument();
  const actual = converged(doc);
  doc.vpcs[0]!.groupMembers['sg-a'] = ['10.0.1.5'];
  const steps = stepsOf(planHost(doc, actual, ctx));
  assert.deepEqual(steps.map((s) => [s.kind, s.note, s.lines]), [['nft', 'update set inet weft m_sg-a', ['flush set inet weft m_sg-a', 'add element inet weft m_sg-a { 10.0.1.5 }']]]);
});

test('a VPC that cannot be planned reports an error and changes nothing, the other VPCs still go ahead', () => {
  const hosts: HostSpec[] = [{ name: 'h1', underlay: '100.64.0.11' }];
  const vpc = (vpcId: string, vni: number): VpcSpec => ({
    vpcId,
    vni,
    subnets: [{ id: 'subnet-1', cidr: '10.0.1.0/24', gateway: '10.0.1.1' }],
    instances: [{ id: `ins-${vpcId.slice(4)}`, host: 'h1', ip: '10.0.1.5', subnet: 'subnet-1', groups: ['sg-open'] }],
    groups: { 'sg-open': OPEN },
  });
  const doc = hostDocument(hosts[0]!, hosts, [vpc('vpc-good0001', 10), vpc('vpc-badd0001', 11)], 1);
  doc.vpcs[1]!.securityGroups['sg-open']!.ingress.push(allow('tcp', { cidr: '300.1.1.1/8' }));
  const bad = structuredClone(doc);
  bad.vpcs[0]!.ports[0]!.ifname = 'a-name-far-too-long';
  const empty: HostState = { namespaces: [], hostLinks: [], routers: {} };

  const groups = planHost(doc, empty, ctx);
  assert.equal(groups[0]!.error, undefined);
  assert.ok(groups[0]!.steps.length > 0);
  assert.match(groups[1]!.error!, /invalid CIDR "300\.1\.1\.1\/8"/);
  assert.deepEqual(groups[1]!.steps, []);
  assert.match(planHost(bad, empty, ctx)[0]!.error!, /invalid interface name/);

  const badIds: [string, (d: HostDocument) => void][] = [
    ['vpc id', (d) => (d.vpcs[0]!.vpcId = 'vpc-../x')],
    ['vni', (d) => (d.vpcs[0]!.vni = 1 << 24)],
    ['mac', (d) => (d.vpcs[0]!.ports[0]!.mac = '0a:00:00:00:01')],
    ['instance id', (d) => (d.vpcs[0]!.ports[0]!.instanceId = 'ins 1; reboot')],
    ['port ip', (d) => (d.vpcs[0]!.ports[0]!.ip = '10.0.1.256')],
    ['remote underlay', (d) => d.vpcs[0]!.remotes.push({ ip: '10.0.1.9', instanceId: 'ins-9', hostId: 'h2', underlay: 'h2', routerMac: '02:00:00:00:00:02' })],
  ];
  for (const [name, spoil] of badIds) {
    const d = structuredClone(doc);
    spoil(d);
    const g = planHost(d, empty, ctx)[0]!;
    assert.ok(g.error && g.steps.length === 0, name);
  }
});

test('two VPCs with the same addresses live in separate router namespaces', () => {
  const hosts: HostSpec[] = [
    { name: 'h1', underlay: '100.64.0.11' },
    { name: 'h2', underlay: '100.64.0.12' },
  ];
  const vpc = (n: number): VpcSpec => ({
    vpcId: `vpc-same000${n}`,
    vni: 100 + n,
    subnets: [{ id: 'subnet-1', cidr: '10.0.1.0/24', gateway: '10.0.1.1' }],
    instances: [
      { id: `ins-${n}0000001`, host: 'h1', ip: '10.0.1.11', subnet: 'subnet-1', groups: ['sg-open'] },
      { id: `ins-${n}0000002`, host: 'h2', ip: '10.0.1.12', subnet: 'subnet-1', groups: ['sg-open'] },
    ],
    groups: { 'sg-open': OPEN },
  });
  const doc = hostDocument(hosts[0]!, hosts, [vpc(1), vpc(2)], 1);
  const groups = planHost(doc, { namespaces: [], hostLinks: [], routers: {} }, ctx);
  const routes = (vpcId: string) => linesOf(groups.filter((g) => g.vpcId === vpcId), 'ip', `wtab-h1-${vpcId}`).filter((l) => l.startsWith('route'));
  assert.deepEqual(routes('vpc-same0001'), ['route replace 10.0.1.11/32 dev p10000001', 'route replace 10.0.1.12/32 via 10.0.1.12 dev vx101 onlink']);
  assert.deepEqual(routes('vpc-same0002'), ['route replace 10.0.1.11/32 dev p20000001', 'route replace 10.0.1.12/32 via 10.0.1.12 dev vx102 onlink']);
  assert.deepEqual(
    linesOf(groups, 'bridge'),
    ['fdb replace 02:02:00:00:65:fe dev vx101 dst 100.64.0.12 self permanent', 'fdb replace 02:02:00:00:66:fe dev vx102 dst 100.64.0.12 self permanent'],
  );
});

test('a kernel without IPv6 is not asked to disable it', () => {
  const steps = stepsOf(planHost(richDocument(), { namespaces: [], hostLinks: [], routers: {} }, { ...ctx, ipv6: false }));
  const sysctls = steps.filter((s) => s.kind === 'sysctl').flatMap((s) => s.lines);
  assert.ok(sysctls.includes('net.ipv4.ip_forward=1'));
  assert.ok(!sysctls.some((l) => l.startsWith('net.ipv6.')));
});

test('the root namespace is the host namespace on a real host', () => {
  const doc = richDocument();
  const steps = stepsOf(planHost(doc, { namespaces: [], hostLinks: [], routers: {} }, { ...ctx, hostNs: null }));
  const host = steps.find((s) => s.kind === 'ip' && s.ns === null)!;
  assert.match(host.lines[0]!, /^link add vx4242 .* local 100\.64\.0\.11 dstport 4789 nolearning$/);
});
