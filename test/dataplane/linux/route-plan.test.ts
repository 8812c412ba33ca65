/** Route tables, next-hop groups, rules and peering links: the pure planners. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../../src/core/cidr.js';
import { planHost, type DriverContext, type Step, type StepGroup } from '../../../src/dataplane/linux/plan.js';
import { GROUP_ID_LIMIT, PUBLIC_RULE_PRIORITY, PUBLIC_TABLE, TABLE_BASE, groupIds, tableIds } from '../../../src/dataplane/linux/route-tables.js';
import type { HostState } from '../../../src/dataplane/linux/state.js';
import { routingDocument } from './fixtures.js';
import { converged } from './converged.js';

const ctx: DriverContext = { prefix: 'wtab', hostName: 'h1', hostNs: 'wtab-h1' };
const R = 'wtab-h1-vpc-rich0001';
const P = 'wtab-h1-vpc-peer0001';
const steps = (groups: StepGroup[]) => groups.flatMap((g) => g.steps);
const T = tableIds(['rtb-main0001', 'rtb-second01']);
const main = T.get('rtb-main0001')!;
const second = T.get('rtb-second01')!;
const id = (ip: string) => parseIp(ip)!;

test('table IDs: two per route table, stable, far above 255 and below 2^31; collisions resolved in sorted order', () => {
  for (const t of T.values()) {
    assert.ok(t.out >= TABLE_BASE && t.in === t.out + 1 && t.in < 2 ** 31);
    assert.equal(t.out % 2, 0);
  }
  assert.deepEqual(tableIds(['rtb-second01', 'rtb-main0001', 'rtb-other']).get('rtb-main0001'), main, 'another table does not move this one');
  const many = tableIds(Array.from({ length: 3000 }, (_, i) => `rtb-${i}`));
  assert.equal(new Set([...many.values()].map((t) => t.out)).size, 3000);
  const g = groupIds(Array.from({ length: 3000 }, (_, i) => `${i} 10.0.0.0/8`));
  assert.equal(new Set(g.values()).size, 3000);
  for (const x of g.values()) assert.ok(x >= 1 && x < GROUP_ID_LIMIT, 'group IDs never collide with member IDs (addresses ≥ 10.0.0.0)');
});

test('a kernel that matches the route tables, groups, rules and peering link gets an empty plan', () => {
  const doc = routingDocument();
  const groups = planHost(doc, converged(doc), ctx);
  assert.deepEqual(groups.map((g) => [g.vpcId, g.error, g.steps]), [
    ['vpc-peer0001', undefined, []],
    ['vpc-rich0001', undefined, []],
  ]);
});

test('an empty host: the later VPC makes the peering link, configures both ends, and every table is filled after the ports', () => {
  const doc = routingDocument();
  const groups = planHost(doc, { namespaces: [], hostLinks: [], routers: {} }, ctx);
  assert.deepEqual(groups.map((g) => g.error), [undefined, undefined]);
  const peerSteps = groups[0]!.steps;
  const routing = (ss: Step[], ns: string) => ss.filter((s) => s.kind === 'ip' && s.ns === ns).at(-1)!.lines;
  const pm = tableIds(['rtb-peer0001']).get('rtb-peer0001')!;
  assert.deepEqual(
    routing(peerSteps, P),
    [
      // The LOCAL route of both views: the VPC's own addresses never follow a user route.
      `route replace unreachable 10.1.0.0/16 table ${pm.out}`,
      `route replace unreachable 10.1.0.0/16 table ${pm.in}`,
      `rule add priority 40001 iif vx4343 from 10.1.0.0/24 lookup ${pm.in}`,
    ],
    'the peer defers its peering route to the link’s maker',
  );
  const rich = groups[1]!.steps;
  const kinds = rich.map((s) => `${s.kind} ${s.ns}`);
  const at = (k: string) => kinds.indexOf(k);
  assert.ok(at(`ip ${P}`) > at('ip wtab-ins-00000003') && at(`ip ${P}`) < kinds.lastIndexOf(`ip ${R}`), 'link made after the ports, routes last');
  const link = rich.find((s) => s.note === 'pcx-00000001: link to vpc-peer0001')!;
  assert.deepEqual(link.lines, [
    `link add pcx-00000001 address 02:70:00:00:01:01 mtu 1500 type veth peer name pcx-00000001 netns ${P} address 02:70:00:00:01:02 mtu 1500`,
    'link set pcx-00000001 alias weft-peer:pcx-00000001,vpc-peer0001',
    'link set pcx-00000001 up',
    'neigh replace 169.254.0.1 lladdr 02:70:00:00:01:02 dev pcx-00000001 nud permanent',
  ]);
  assert.deepEqual(rich.find((s) => s.ns === P && s.kind === 'ip')!.lines, [
    'link set pcx-00000001 alias weft-peer:pcx-00000001,vpc-rich0001',
    'link set pcx-00000001 up',
    'neigh replace 169.254.0.1 lladdr 02:70:00:00:01:01 dev pcx-00000001 nud permanent',
    `route replace 10.0.0.0/16 via 169.254.0.1 dev pcx-00000001 onlink table ${pm.out}`,
  ]);
  const g192 = groupIds([`${main.out} 192.168.0.0/16`, `${main.in} 192.168.0.0/16`, `${second.out} 0.0.0.0/0`]);
  assert.deepEqual(routing(rich, R), [
    `nexthop replace id ${id('10.0.1.5')} via 10.0.1.5 dev p00000001 onlink`,
    `nexthop replace id ${id('10.0.1.7')} via 10.0.1.7 dev p00000003 onlink`,
    `nexthop replace id ${id('10.0.1.20')} via 10.0.1.20 dev vx4242 onlink`,
    `nexthop replace id ${id('10.0.2.6')} via 10.0.2.6 dev p00000002 onlink`,
    `nexthop replace id ${id('10.0.2.21')} via 10.0.2.21 dev vx4242 onlink`,
    `nexthop replace id ${g192.get(`${main.out} 192.168.0.0/16`)} group ${id('10.0.1.5')}/${id('10.0.1.7')}/${id('10.0.1.20')} type resilient buckets 128 idle_timer 10`,
    `nexthop replace id ${g192.get(`${main.in} 192.168.0.0/16`)} group ${id('10.0.1.5')}/${id('10.0.1.7')} type resilient buckets 128 idle_timer 10`,
    `nexthop replace id ${g192.get(`${second.out} 0.0.0.0/0`)} group ${id('10.0.2.6')}/${id('10.0.2.21')} type resilient buckets 128 idle_timer 10`,
    `route replace unreachable 10.0.0.0/16 table ${main.out}`,
    `route replace unreachable 10.0.0.0/16 table ${main.in}`,
    `route replace 10.1.0.0/16 via 169.254.0.1 dev pcx-00000001 onlink table ${main.out}`,
    `route replace 172.16.5.0/24 via 10.0.1.5 dev p00000001 onlink table ${main.out}`,
    `route replace 172.16.5.0/24 via 10.0.1.5 dev p00000001 onlink table ${main.in}`,
    `route replace blackhole 172.17.0.0/16 table ${main.out}`,
    `route replace 172.18.0.0/16 via 10.0.1.30 dev vx4242 onlink table ${main.out}`,
    `route replace unreachable 10.0.0.0/16 table ${second.out}`,
    `route replace unreachable 10.0.0.0/16 table ${second.in}`,
    `route replace 0.0.0.0/0 via 10.0.2.6 dev p00000002 onlink table ${second.in}`,
    `route replace 192.168.0.0/16 nhid ${g192.get(`${main.out} 192.168.0.0/16`)} table ${main.out}`,
    `route replace 192.168.0.0/16 nhid ${g192.get(`${main.in} 192.168.0.0/16`)} table ${main.in}`,
    `route replace 0.0.0.0/0 nhid ${g192.get(`${second.out} 0.0.0.0/0`)} table ${second.out}`,
    `rule add priority 40000 iif p00000001 lookup ${main.out}`,
    `rule add priority 40000 iif p00000002 lookup ${second.out}`,
    `rule add priority 40000 iif p00000003 lookup ${main.out}`,
    `rule add priority 40001 iif vx4242 from 10.0.1.0/24 lookup ${main.in}`,
    `rule add priority 40001 iif vx4242 from 10.0.2.0/24 lookup ${second.in}`,
    `rule add priority 40001 iif vx4242 from 10.0.9.0/24 lookup ${second.in}`,
  ]);
  assert.ok(rich.some((s) => s.kind === 'sysctl' && s.ns === R && s.lines.includes('net.ipv4.fib_multipath_hash_policy=1')));
});

const routingOf = (groups: StepGroup[], ns = R) => steps(groups).filter((s) => s.kind === 'ip' && s.ns === ns).flatMap((s) => s.lines);

test('a member leaving or joining an ECMP group replaces the group in place (surviving members keep their buckets); down to one, a plain route', () => {
  const doc = routingDocument();
  const actual = converged(doc);
  const rt = doc.vpcs[1]!.routeTables![0]!;
  const r192 = rt.routes[4]! as Extract<(typeof rt.routes)[number], { kind: 'instance' }>;
  const gOut = groupIds([`${main.out} 192.168.0.0/16`, `${main.in} 192.168.0.0/16`, `${second.out} 0.0.0.0/0`]).get(`${main.out} 192.168.0.0/16`)!;
  r192.nextHops = r192.nextHops.filter((h) => h.ip !== '10.0.1.20');
  assert.deepEqual(routingOf(planHost(doc, actual, ctx)), [
    `nexthop replace id ${gOut} group ${id('10.0.1.5')}/${id('10.0.1.7')} type resilient buckets 128 idle_timer 10`,
    `nexthop del id ${id('10.0.1.20')}`,
  ]);
  r192.nextHops = [{ ip: '10.0.1.30', instanceId: 'ins-00000030' }];
  const gIn = groupIds([`${main.out} 192.168.0.0/16`, `${main.in} 192.168.0.0/16`, `${second.out} 0.0.0.0/0`]).get(`${main.in} 192.168.0.0/16`)!;
  const lines = routingOf(planHost(doc, actual, ctx));
  assert.deepEqual(lines, [
    `route del 192.168.0.0/16 table ${main.in}`,
    `route replace 192.168.0.0/16 via 10.0.1.30 dev vx4242 onlink table ${main.out}`,
    `nexthop del id ${gOut}`,
    `nexthop del id ${gIn}`,
    `nexthop del id ${id('10.0.1.5')}`,
    `nexthop del id ${id('10.0.1.7')}`,
    `nexthop del id ${id('10.0.1.20')}`,
  ]);
  assert.ok(lines.indexOf(`route replace 192.168.0.0/16 via 10.0.1.30 dev vx4242 onlink table ${main.out}`) < lines.indexOf(`nexthop del id ${gOut}`), 'the route moves before its group goes');
  r192.nextHops = [];
  assert.ok(routingOf(planHost(doc, actual, ctx)).includes(`route replace blackhole 192.168.0.0/16 table ${main.out}`), 'no next hop up: blackhole');
});

test('drift in the tables is repaired, and only it', () => {
  const doc = routingDocument();
  const cases: [string, (a: HostState) => void, string[]][] = [
    ['rule deleted', (a) => a.routers[R]!.rules.splice(3, 1), [`rule add priority 40000 iif p00000001 lookup ${main.out}`]],
    ['extra rule', (a) => a.routers[R]!.rules.push({ priority: 100, src: '10.0.0.0/8', table: '7', protocol: 'boot' }), ['rule del priority 100 from 10.0.0.0/8 lookup 7']],
    ['route deleted', (a) => (a.routers[R]!.tableRoutes = a.routers[R]!.tableRoutes.filter((r) => r.dst !== '172.17.0.0/16')), [`route replace blackhole 172.17.0.0/16 table ${main.out}`]],
    ['extra route in a stale table', (a) => a.routers[R]!.tableRoutes.push({ dst: '8.8.8.0/24', type: 'unicast', dev: 'vx4242', gateway: '10.0.1.20', onlink: true, table: '5000' }), ['route del 8.8.8.0/24 table 5000']],
    ['member deleted', (a) => (a.routers[R]!.nexthops = a.routers[R]!.nexthops.filter((n) => n.id !== id('10.0.2.6')).map((n) => (n.group ? { ...n, group: n.group.filter((m) => m !== id('10.0.2.6')) } : n))), [
      `nexthop replace id ${id('10.0.2.6')} via 10.0.2.6 dev p00000002 onlink`,
      `nexthop replace id ${groupIds([`${main.out} 192.168.0.0/16`, `${main.in} 192.168.0.0/16`, `${second.out} 0.0.0.0/0`]).get(`${second.out} 0.0.0.0/0`)} group ${id('10.0.2.6')}/${id('10.0.2.21')} type resilient buckets 128 idle_timer 10`,
    ]],
    ['peering neighbour gone', (a) => (a.routers[P]!.neighbours = a.routers[P]!.neighbours.filter((n) => n.dev !== 'pcx-00000001')), []],
  ];
  for (const [name, spoil, want] of cases) {
    const actual = converged(doc);
    spoil(actual);
    const groups = planHost(doc, actual, ctx);
    assert.deepEqual(routingOf(groups), want, name);
  }
  const actual = converged(doc);
  actual.routers[P]!.neighbours = actual.routers[P]!.neighbours.filter((n) => n.dev !== 'pcx-00000001');
  assert.deepEqual(routingOf(planHost(doc, actual, ctx), P), ['neigh replace 169.254.0.1 lladdr 02:70:00:00:01:01 dev pcx-00000001 nud permanent'], 'each VPC looks after its own end');
});

test('a peering link with a wrong end is made again by the later VPC; the earlier one drops its end and leaves its routes to the maker', () => {
  const doc = routingDocument();
  const actual = converged(doc);
  actual.routers[P]!.links.find((l) => l.name === 'pcx-00000001')!.mac = '02:00:00:00:00:99';
  const groups = planHost(doc, actual, ctx);
  assert.deepEqual(groups[0]!.steps.map((s) => [s.kind, s.ns, s.lines]), [['link-del', P, ['pcx-00000001']]]);
  const rich = groups[1]!.steps;
  assert.deepEqual(rich.map((s) => [s.kind, s.ns]), [
    ['link-del', R],
    ['link-del', P],
    ['ip', R],
    ['ip', P],
    ['sysctl', R],
    ['sysctl', P],
    ['ip', R],
  ]);
  assert.deepEqual(rich.at(-1)!.lines, [`route replace 10.1.0.0/16 via 169.254.0.1 dev pcx-00000001 onlink table ${main.out}`]);
});

test('a peering gone from the document: each router deletes its end (the second finds it gone)', () => {
  const doc = routingDocument();
  const actual = converged(doc);
  for (const v of doc.vpcs) {
    v.peerings = [];
    for (const t of v.routeTables ?? []) t.routes = t.routes.filter((r) => r.kind !== 'peering');
  }
  const groups = planHost(doc, actual, ctx);
  assert.deepEqual(groups.map((g) => g.steps.map((s) => [s.kind, s.lines])), [[['link-del', ['pcx-00000001']]], [['link-del', ['pcx-00000001']]]]);
  const removal = planHost({ ...doc, vpcs: [] }, actual, ctx);
  assert.deepEqual(removal.map((g) => g.steps.find((s) => s.kind === 'link-del')?.lines), [['pcx-00000001'], ['pcx-00000001']]);
});

test('a port without carrier is no member: the kernel would refuse the object (its instance took eth0 down)', () => {
  const doc = routingDocument();
  const actual = converged(doc);
  actual.routers[R]!.links.find((l) => l.name === 'p00000003')!.noCarrier = true;
  actual.routers[R]!.nexthops = actual.routers[R]!.nexthops.filter((n) => n.dev !== 'p00000003').map((n) => (n.group ? { ...n, group: n.group.filter((m) => m !== id('10.0.1.7')) } : n));
  const gIn = groupIds([`${main.out} 192.168.0.0/16`, `${main.in} 192.168.0.0/16`, `${second.out} 0.0.0.0/0`]).get(`${main.in} 192.168.0.0/16`)!;
  assert.deepEqual(
    routingOf(planHost(doc, actual, ctx)),
    [`route replace 192.168.0.0/16 via 10.0.1.5 dev p00000001 onlink table ${main.in}`, `nexthop del id ${gIn}`],
    'the kernel already took it out of the groups; the "in" group is down to one member: a plain route',
  );
});

test('what the route tables carry to a command line is checked', () => {
  const empty: HostState = { namespaces: [], hostLinks: [], routers: {} };
  const spoilers: [string, (d: ReturnType<typeof routingDocument>) => void, RegExp][] = [
    ['destination', (d) => (d.vpcs[1]!.routeTables![0]!.routes[1]!.destination = '172.16.5.1/24'), /invalid destination/],
    ['next hop', (d) => ((d.vpcs[1]!.routeTables![0]!.routes[1] as { nextHops: { ip: string }[] }).nextHops[0]!.ip = '9.9.9.9'), /invalid next hop/],
    ['table id', (d) => (d.vpcs[1]!.routeTables![0]!.routeTableId = 'rtb main; x'), /route table/],
    ['link name', (d) => (d.vpcs[1]!.peerings![0]!.ifname = 'a-name-far-too-long'), /invalid interface name/],
    ['link name taken', (d) => (d.vpcs[1]!.peerings![0]!.ifname = 'p00000001'), /is taken/],
    ['peer missing', (d) => d.vpcs.shift(), /peer VPC vpc-peer0001 is not in the document/],
    ['peer disagrees', (d) => (d.vpcs[0]!.peerings![0]!.mac = '02:00:00:00:00:01'), /does not describe the same link/],
    ['routed CIDR', (d) => (d.vpcs[1]!.ports[0]!.routedCidrs = ['192.168.0.0/40']), /invalid CIDR/],
    ['subnet table', (d) => (d.vpcs[1]!.subnets[0]!.routeTableId = 'rtb-nowhere'), /route table rtb-nowhere is not in the document/],
    ['peering route without link', (d) => (d.vpcs[1]!.peerings = []), /has no link here/],
  ];
  for (const [name, spoil, msg] of spoilers) {
    const d = routingDocument();
    spoil(d);
    const g = planHost(d, empty, ctx).find((x) => x.vpcId === 'vpc-rich0001')!;
    assert.match(g.error ?? '', msg, name);
    assert.deepEqual(g.steps, [], name);
  }
});

test("an EIP port's unrouted traffic goes to the gateway cluster: a rule after the route tables', one table, the cluster's neighbour and tunnel end", () => {
  const doc = routingDocument();
  const rich = doc.vpcs.find((v) => v.vpcId === 'vpc-rich0001')!;
  rich.ports[0]!.publicIp = '198.51.100.7';
  rich.publicGateway = { underlay: '100.64.255.1', routerMac: '0a:ee:00:00:00:01' };
  const port = rich.ports[0]!.ifname;
  const all = steps(planHost(doc, { namespaces: [], hostLinks: [], routers: {} }, ctx)).filter((s) => s.ns === R).flatMap((s) => s.lines);
  for (const line of [
    `route replace 0.0.0.0/0 via 169.254.255.1 dev vx4242 onlink table ${PUBLIC_TABLE}`,
    `rule add priority ${PUBLIC_RULE_PRIORITY} iif ${port} lookup ${PUBLIC_TABLE}`,
    'neigh replace 169.254.255.1 lladdr 0a:ee:00:00:00:01 dev vx4242 nud permanent',
    'fdb replace 0a:ee:00:00:00:01 dev vx4242 dst 100.64.255.1 self permanent',
  ])
    assert.ok(all.includes(line), `${line}\nin\n${all.join('\n')}`);
  assert.ok(PUBLIC_RULE_PRIORITY > 40001, 'after the route tables: a route-table route (0.0.0.0/0 → NAT) wins');
  const settled = planHost(doc, converged(doc), ctx);
  assert.deepEqual(settled.map((g) => [g.vpcId, g.error, g.steps]), [
    ['vpc-peer0001', undefined, []],
    ['vpc-rich0001', undefined, []],
  ], 'a converged kernel: nothing to do');
  delete rich.ports[0]!.publicIp;
  const undo = steps(planHost(doc, converged({ ...doc, vpcs: doc.vpcs.map((v) => (v === rich ? { ...v, ports: v.ports.map((p, i) => (i ? p : { ...p, publicIp: '198.51.100.7' })) } : v)) }), ctx)).flatMap((s) => s.lines);
  assert.ok(undo.includes(`rule del priority ${PUBLIC_RULE_PRIORITY} iif ${port} lookup ${PUBLIC_TABLE}`), undo.join('\n'));
  assert.ok(undo.some((l) => l.startsWith('route del 0.0.0.0/0') && l.endsWith(`table ${PUBLIC_TABLE}`)), undo.join('\n'));
});
