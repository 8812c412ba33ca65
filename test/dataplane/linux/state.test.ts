/** Parsing what the tools print (samples captured from iproute2 6.1), and the small pure helpers of exec.ts and names.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandError, batchFailures, parseJsonLines, parseSysctl, run } from '../../../src/dataplane/linux/exec.js';
import { checkPrefix, fabricPortName, routerVpcOf } from '../../../src/dataplane/linux/names.js';
import { parseAddrs, parseFdb, parseLinks, parseNeighbours, parseNexthops, parseRoutes, parseRules, splitTables } from '../../../src/dataplane/linux/state.js';

const LINKS = JSON.parse(
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00"},' +
    '{"ifindex":2,"link_index":2,"ifname":"p00000001","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","link_type":"ether","address":"4A:a7:4d:4a:2a:ea","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":1,"ifalias":"weft:ins-00000001,10.0.1.11/24,02:00:00:00:01:01,10.0.1.1,eth0","linkinfo":{"info_kind":"veth"}},' +
    '{"ifindex":3,"link_index":3,"ifname":"vx100","flags":["BROADCAST","MULTICAST"],"mtu":1500,"link_type":"ether","address":"02:aa:00:00:00:01","linkinfo":{"info_kind":"vxlan","info_data":{"id":100,"local":"100.64.0.11","port_range":{"low":0,"high":0},"port":4789,"learning":false,"ttl":0,"df":"unset","ageing":300}}},' +
    '{"ifindex":4,"ifname":"h1","flags":["BROADCAST","UP"],"mtu":9000,"master":"br0","address":"aa:00:00:00:00:01","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge"}}]',
);

test('links: name, kind, MAC (lowercase), MTU, admin state, carrier, alias, master, index and peer index, VXLAN parameters', () => {
  assert.deepEqual(parseLinks(LINKS), [
    { name: 'lo', kind: undefined, mac: '00:00:00:00:00:00', mtu: 65536, up: true, ifindex: 1 },
    {
      name: 'p00000001',
      kind: 'veth',
      mac: '4a:a7:4d:4a:2a:ea',
      mtu: 1500,
      up: true,
      alias: 'weft:ins-00000001,10.0.1.11/24,02:00:00:00:01:01,10.0.1.1,eth0',
      ifindex: 2,
      peerIndex: 2,
    },
    { name: 'vx100', kind: 'vxlan', mac: '02:aa:00:00:00:01', mtu: 1500, up: false, ifindex: 3, noCarrier: true, vxlan: { id: 100, local: '100.64.0.11', port: 4789, learning: false } },
    { name: 'h1', kind: 'veth', mac: 'aa:00:00:00:00:01', mtu: 9000, up: true, master: 'br0', ifindex: 4, noCarrier: true },
  ]);
});

test('addresses: IPv4 of the named device, loopback 127/8 left out', () => {
  const json = JSON.parse(
    '[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},{"family":"inet","local":"10.0.1.1","prefixlen":32},{"family":"inet6","local":"::1","prefixlen":128}]},' +
      '{"ifindex":2,"ifname":"u0","addr_info":[{"family":"inet","local":"100.64.0.11","prefixlen":16}]}]',
  );
  assert.deepEqual(parseAddrs(json, 'lo'), ['10.0.1.1/32']);
  assert.deepEqual(parseAddrs(json, 'u0'), ['100.64.0.11/16']);
  assert.deepEqual(parseAddrs(json), ['10.0.1.1/32', '100.64.0.11/16']);
});

test('routes: destinations always as a.b.c.d/n, onlink flag, IPv6 left out', () => {
  const json = JSON.parse(
    '[{"type":"unicast","dst":"10.0.1.11","dev":"p00000001","protocol":"boot","scope":"link","flags":[]},' +
      '{"type":"unicast","dst":"10.0.1.12","gateway":"10.0.1.12","dev":"vx100","protocol":"boot","scope":"global","flags":["onlink"]},' +
      '{"dst":"default","gateway":"10.0.0.1","dev":"eth0","flags":[]},' +
      '{"type":"blackhole","dst":"10.9.0.0/16","protocol":"static","flags":[]},' +
      '{"dst":"fe80::/64","dev":"eth0","flags":[]}]',
  );
  assert.deepEqual(parseRoutes(json), [
    { dst: '10.0.1.11/32', type: 'unicast', dev: 'p00000001', gateway: undefined, onlink: false, protocol: 'boot' },
    { dst: '10.0.1.12/32', type: 'unicast', dev: 'vx100', gateway: '10.0.1.12', onlink: true, protocol: 'boot' },
    { dst: '0.0.0.0/0', type: 'unicast', dev: 'eth0', gateway: '10.0.0.1', onlink: false, protocol: undefined },
    { dst: '10.9.0.0/16', type: 'blackhole', dev: undefined, gateway: undefined, onlink: false, protocol: 'static' },
  ]);
});

test('neighbours and FDB entries', () => {
  const neigh = JSON.parse(
    '[{"dst":"10.0.1.12","dev":"vx100","lladdr":"02:AA:00:00:00:02","state":["PERMANENT"]},{"dst":"10.0.1.13","dev":"p1","state":["FAILED"]},{"dst":"fe80::1","dev":"p1","lladdr":"02:00:00:00:00:01","state":["STALE"]}]',
  );
  assert.deepEqual(parseNeighbours(neigh), [
    { dst: '10.0.1.12', dev: 'vx100', lladdr: '02:aa:00:00:00:02', permanent: true },
    { dst: '10.0.1.13', dev: 'p1', lladdr: undefined, permanent: false },
  ]);
  const fdb = JSON.parse(
    '[{"mac":"33:33:00:00:00:01","ifname":"p00000001","flags":["self"],"state":"permanent"},{"mac":"02:aa:00:00:00:02","ifname":"vx100","dst":"100.64.0.12","linkNetNsId":0,"flags":["self"],"state":"permanent"},{"mac":"02:aa:00:00:00:03","ifname":"vx100","dst":"100.64.0.13","flags":["self"],"state":""}]',
  );
  assert.deepEqual(parseFdb(fdb), [
    { mac: '33:33:00:00:00:01', dev: 'p00000001', dst: undefined, permanent: true },
    { mac: '02:aa:00:00:00:02', dev: 'vx100', dst: '100.64.0.12', permanent: true },
    { mac: '02:aa:00:00:00:03', dev: 'vx100', dst: '100.64.0.13', permanent: false },
  ]);
});

test('batch answers: one JSON document per line; failures name the refused lines', () => {
  assert.deepEqual(parseJsonLines('[{"a":1}]\n[]\n[{"b":2}]\n', 3, 'x'), [[{ a: 1 }], [], [{ b: 2 }]]);
  assert.throws(() => parseJsonLines('[]\n', 2, 'ip -batch'), /expected 2 JSON documents, got 1/);
  const input = 'route replace 10.0.0.1/32 dev p1\naddr add 10.0.1.1/32 dev lo\nneigh del 10.0.0.9 dev p1\n';
  const stderr = 'Error: ipv4: Address already assigned.\nCommand failed -:2\nRTNETLINK answers: No such file or directory\nCommand failed -:3\n';
  assert.equal(
    batchFailures(stderr, input),
    'line 2 "addr add 10.0.1.1/32 dev lo"; line 3 "neigh del 10.0.0.9 dev p1": Error: ipv4: Address already assigned. | RTNETLINK answers: No such file or directory',
  );
  assert.equal(batchFailures('boom', input), undefined);
  assert.deepEqual(parseSysctl('net.ipv4.ip_forward = 1\nnet.ipv4.conf.p1.proxy_arp = 0\n'), { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.p1.proxy_arp': '0' });
});

test('run: stdin in, stdout out; a failure names the command, its exit code and stderr', async () => {
  const echo = await run([process.execPath, '-e', 'process.stdin.pipe(process.stdout)'], { input: 'hello\n' });
  assert.equal(echo.stdout, 'hello\n');
  await assert.rejects(run([process.execPath, '-e', 'process.stderr.write("no such device"); process.exit(2)']), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /-e process\.stderr\.write.* failed \(exit 2\): no such device/);
    return true;
  });
  await assert.rejects(run(['/nonexistent/tool']), /\/nonexistent\/tool failed \(killed\): Error: spawn/);
});

test('names: region prefixes are short and plain; router namespaces are recognised per host', () => {
  assert.equal(checkPrefix('wt1a2b'), 'wt1a2b');
  for (const bad of ['', 'w', 'WT', 'wt-1', '1wt', 'wtaaaaaaaaaaaaaaaaa']) assert.throws(() => checkPrefix(bad), /invalid region prefix/, bad);
  assert.equal(routerVpcOf('wt1', 'h1', 'wt1-h1-vpc-abc12345'), 'vpc-abc12345');
  assert.equal(routerVpcOf('wt1', 'h1', 'wt1-h10-vpc-abc12345'), undefined);
  assert.equal(routerVpcOf('wt1', 'h1', 'wt1-h1-x-vpc-abc12345'), undefined);
  assert.equal(routerVpcOf('wt1', 'h1', 'wt1-h1'), undefined);
  assert.equal(routerVpcOf('wt1', 'h1', 'wt1-ins-00000001'), undefined);
  assert.equal(fabricPortName('h1'), 'h1');
  assert.match(fabricPortName('host-with-a-long-name'), /^h[0-9a-f]{8}$/);
  assert.equal(fabricPortName('host-with-a-long-name'), fabricPortName('host-with-a-long-name'));
});

// Captured from iproute2 6.1 on kernel 6.18 (`ip -j -d -batch -` in a router namespace).
const RULES = JSON.parse(
  '[{"priority":0,"src":"all","table":"local","protocol":"kernel"},{"priority":32766,"src":"all","table":"main","protocol":"kernel"},{"priority":32767,"src":"all","table":"default","protocol":"kernel"},{"priority":40000,"src":"all","iif":"pa","table":"100000","protocol":"unspec"},{"priority":40001,"src":"10.0.1.0","srclen":24,"iif":"vx5","table":"100001","protocol":"unspec"}]',
);
const NEXTHOPS = JSON.parse(
  '[{"id":1000,"group":[{"id":167772165},{"id":167772166}],"type":"resilient","resilient_args":{"buckets":128,"idle_timer":10,"unbalanced_timer":0,"unbalanced_time":0},"scope":"global","protocol":"unspec","flags":[]},{"id":167772165,"gateway":"10.0.1.5","dev":"pa","scope":"link","protocol":"unspec","flags":["onlink"]},{"id":167772166,"gateway":"10.0.1.6","dev":"vx5","scope":"link","protocol":"unspec","flags":["onlink"]}]',
);
const ALL_TABLES = JSON.parse(
  '[{"type":"unicast","dst":"10.8.0.0/16","gateway":"169.254.0.1","dev":"pa","table":"100000","protocol":"boot","scope":"global","flags":["onlink"]},{"type":"blackhole","dst":"172.16.0.0/12","table":"100000","protocol":"boot","scope":"global","flags":[]},{"type":"unicast","dst":"192.168.0.0/16","nhid":1000,"table":"100000","protocol":"boot","scope":"global","flags":[],"nh_info":{"id":1000,"group":[{"id":167772165},{"id":167772166}],"type":"resilient"},"nexthops":[{"gateway":"10.0.1.5","dev":"pa","weight":1,"flags":["onlink"]},{"gateway":"10.0.1.6","dev":"vx5","weight":1,"flags":["onlink"]}]},' +
    '{"type":"unicast","dst":"10.0.1.5","dev":"pa","protocol":"boot","scope":"link","flags":[]},{"type":"local","dst":"127.0.0.0/8","dev":"lo","table":"local","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]},{"type":"unicast","dst":"fe80::/64","dev":"vx5","table":"main","protocol":"kernel","scope":"global","metric":256,"flags":[],"pref":"medium"}]',
);

test('rules: source as a CIDR or all, iif, table, protocol', () => {
  assert.deepEqual(parseRules(RULES).slice(2), [
    { priority: 32767, src: 'all', table: 'default', protocol: 'kernel' },
    { priority: 40000, src: 'all', iif: 'pa', table: '100000', protocol: 'unspec' },
    { priority: 40001, src: '10.0.1.0/24', iif: 'vx5', table: '100001', protocol: 'unspec' },
  ]);
});

test('next-hop objects: single next hops and resilient groups with their arguments', () => {
  assert.deepEqual(parseNexthops(NEXTHOPS), [
    { id: 1000, onlink: false, group: [167772165, 167772166], type: 'resilient', buckets: 128, idleTimer: 10 },
    { id: 167772165, onlink: true, gateway: '10.0.1.5', dev: 'pa' },
    { id: 167772166, onlink: true, gateway: '10.0.1.6', dev: 'vx5' },
  ]);
});

test('routes of every table: main apart, numbered tables with their table and next-hop object; local and IPv6 left out', () => {
  const { main, numbered } = splitTables(parseRoutes(ALL_TABLES));
  assert.deepEqual(main, [{ dst: '10.0.1.5/32', type: 'unicast', dev: 'pa', gateway: undefined, onlink: false, protocol: 'boot' }]);
  assert.deepEqual(numbered, [
    { dst: '10.8.0.0/16', type: 'unicast', dev: 'pa', gateway: '169.254.0.1', onlink: true, protocol: 'boot', table: '100000' },
    { dst: '172.16.0.0/12', type: 'blackhole', dev: undefined, gateway: undefined, onlink: false, protocol: 'boot', table: '100000' },
    { dst: '192.168.0.0/16', type: 'unicast', dev: undefined, gateway: undefined, onlink: false, protocol: 'boot', table: '100000', nhid: 1000 },
  ]);
});
