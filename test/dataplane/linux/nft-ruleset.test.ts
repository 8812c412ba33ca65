import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  desiredTables,
  normalisePorts,
  parseIpv6Cidr,
  planNft,
  policyRule,
  renderTable,
  ruleText,
  tablesFromListing,
  withComments,
  type NftTable,
} from '../../../src/dataplane/linux/nft-ruleset.js';
import { RICH_LISTING } from './fixture-listing.js';
import { richVpc } from './fixtures.js';
import { allow, deny, ANY } from './world.js';

/** A JSON listing with the comments the text listing gives (tableComments): those of the rich VPC's tables, as loaded. */
const listed = (listing: unknown[]) =>
  withComments(tablesFromListing(listing), new Map(desiredTables(richVpc()).map((t) => [`${t.family} ${t.name}`, t.comment!])));

const inet = (tables: NftTable[]) => tables.find((t) => t.family === 'inet')!;
const chain = (t: NftTable, name: string) => t.chains.find((c) => c.name === name)!;
const rulesText = (t: NftTable, name: string) => chain(t, name).rules.map(ruleText);

test('policies become one rule each, peer as source on ingress and destination on egress', () => {
  const cases: [Parameters<typeof policyRule>[0], 'ingress' | 'egress', string][] = [
    [allow('tcp', { cidr: '10.0.0.0/16' }, [[22, 22]]), 'ingress', 'ip saddr 10.0.0.0/16 tcp dport 22 accept'],
    [allow('tcp', { cidr: '10.0.0.0/16' }, [[22, 22]]), 'egress', 'ip daddr 10.0.0.0/16 tcp dport 22 accept'],
    [allow('udp', ANY, [[53, 53], [1000, 2000]]), 'ingress', 'meta nfproto ipv4 udp dport { 53, 1000-2000 } accept'],
    [deny('tcp', { cidr: '10.0.0.7/32' }, [[8000, 8080]]), 'ingress', 'ip saddr 10.0.0.7 tcp dport 8000-8080 drop'],
    [allow('tcp', { cidr: '10.0.0.0/24' }), 'ingress', 'ip saddr 10.0.0.0/24 meta l4proto tcp accept'],
    [allow('udp', { group: 'sg-web' }, [[53, 53]]), 'egress', 'ip daddr @m_sg-web udp dport 53 accept'],
    [allow('icmp', ANY), 'ingress', 'meta l4proto icmp accept'],
    [allow('icmp', { cidr: '10.1.0.0/16' }), 'ingress', 'ip saddr 10.1.0.0/16 meta l4proto icmp accept'],
    [allow('icmpv6', { ipv6Cidr: '::/0' }), 'ingress', 'meta l4proto ipv6-icmp accept'],
    [allow('all', { ipv6Cidr: '2001:DB8:0::/32' }), 'egress', 'ip6 daddr 2001:db8::/32 accept'],
    [deny('all', ANY), 'ingress', 'meta nfproto ipv4 drop'],
    [allow('udp', ANY, [[0, 65535]]), 'ingress', 'meta nfproto ipv4 meta l4proto udp accept'],
    [allow('tcp', { cidr: '10.0.0.9/32' }, [[22, 22]]), 'ingress', 'ip saddr 10.0.0.9 tcp dport 22 accept'],
    [allow('all', { ipv6Cidr: '2001:db8::9' }), 'ingress', 'ip6 saddr 2001:db8::9 accept'],
    [{ ...deny('all', { cidr: '10.0.0.0/8' }), protocol: 'gre' as 'all' }, 'egress', 'ip daddr 10.0.0.0/8 meta l4proto gre drop'],
  ];
  for (const [rule, dir, text] of cases) assert.equal(ruleText(policyRule(rule, dir)), text, JSON.stringify(rule));
});

test('a CIDR the compiler did not normalise (bare address, host bits) is refused, not repaired', () => {
  for (const cidr of ['10.0.0.9', '10.0.0.7/24', '10.0.0.0/33']) assert.throws(() => policyRule(allow('tcp', { cidr }), 'ingress'), /invalid CIDR/, cidr);
});

test('a policy the kernel could not express fails the plan instead of being skipped', () => {
  assert.throws(() => policyRule(allow('tcp', { cidr: '10.0.0.0/33' }), 'ingress'), /invalid CIDR/);
  assert.throws(() => policyRule(allow('tcp', { ipv6Cidr: '2001:db8::g/32' }), 'ingress'), /invalid IPv6 CIDR/);
  assert.throws(() => policyRule({ ...allow('all', ANY), protocol: 'sctp' as 'all' }, 'ingress'), /unknown protocol/);
});

test('port ranges are sorted and merged the way nft stores them', () => {
  assert.deepEqual(normalisePorts([[443, 443], [80, 80], [8000, 8080], [8081, 8090], [8050, 8100]]), [[80, 80], [443, 443], [8000, 8100]]);
  assert.deepEqual(normalisePorts([[20, 10]]), [[10, 20]]);
  assert.deepEqual(normalisePorts([[0, 65535]]), []);
  assert.deepEqual(normalisePorts([[0, 100], [101, 65535]]), []);
  assert.deepEqual(normalisePorts([]), []);
});

test('property: merged port ranges cover exactly the same ports, sorted and disjoint', () => {
  const range = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }));
  fc.assert(
    fc.property(fc.array(range, { maxLength: 8 }), (ranges) => {
      const merged = normalisePorts(ranges);
      for (let i = 1; i < merged.length; i++) assert.ok(merged[i]![0] > merged[i - 1]![1] + 1, 'disjoint, not adjacent');
      for (let p = 0; p <= 301; p++) {
        const inInput = ranges.some(([a, b]) => p >= Math.min(a, b) && p <= Math.max(a, b));
        const inOutput = merged.some(([a, b]) => p >= a && p <= b);
        assert.equal(inOutput, inInput, `port ${p}`);
      }
    }),
  );
});

test('IPv6 CIDRs are masked and written as inet_ntop writes them', () => {
  assert.deepEqual(parseIpv6Cidr('2001:DB8:0:0:1::/32'), { addr: '2001:db8::', prefix: 32 });
  assert.deepEqual(parseIpv6Cidr('::/0'), { addr: '::', prefix: 0 });
  assert.deepEqual(parseIpv6Cidr('fe80::1:2/128'), { addr: 'fe80::1:2', prefix: 128 });
  assert.deepEqual(parseIpv6Cidr('2001:db8:0:1:0:0:0:1/128'), { addr: '2001:db8:0:1::1', prefix: 128 });
  assert.deepEqual(parseIpv6Cidr('1:0:1:0:1:0:1:0/128'), { addr: '1:0:1:0:1:0:1:0', prefix: 128 });
  assert.deepEqual(parseIpv6Cidr('::ffff:10.0.0.1/128'), { addr: '::ffff:a00:1', prefix: 128 });
  for (const bad of ['2001:db8::/129', '1::2::3/64', '12345::/16', '10.0.0.0/8', '1:2:3:4:5:6:7:8:9/128']) assert.equal(parseIpv6Cidr(bad), undefined, bad);
});

test('port chains jump to the bound groups in bound order and drop what none matched', () => {
  const t = inet(desiredTables(richVpc()));
  assert.deepEqual(rulesText(t, 'ingress-p00000001'), ['jump sg-a-ingress', 'jump sg-b-ingress', 'drop']);
  assert.deepEqual(rulesText(t, 'egress-p00000002'), ['jump sg-b-egress', 'drop']);
  assert.deepEqual(rulesText(t, 'ingress-p00000003'), ['drop'], 'a port without groups passes nothing');
  assert.deepEqual(rulesText(t, 'sg-a-ingress').slice(0, 3), [
    'ip saddr 10.0.0.0/16 tcp dport 22 accept',
    'meta nfproto ipv4 tcp dport { 80, 443, 8000-8080 } accept',
    'ip saddr @m_sg-b udp dport 53 accept',
  ]);
  assert.equal(chain(t, 'sg-empty-ingress'), undefined, 'groups bound to no local port get no chain');
  const maps = t.sets.filter((s) => s.map);
  assert.deepEqual(maps.map((m) => m.name), ['egress_ports', 'ingress_ports', 'acl_out_ports', 'acl_in_ports']);
  assert.deepEqual(maps[0]!.elem[0], ['p00000001', { jump: { target: 'egress-p00000001' } }]);
});

test('member sets hold the referenced groups’ addresses, sorted; anti-spoofing sets hold each port’s interface, MAC and IP', () => {
  const [t, arp] = desiredTables(richVpc()) as [NftTable, NftTable];
  const set = (tb: NftTable, name: string) => tb.sets.find((s) => s.name === name)!;
  assert.deepEqual(set(t, 'm_sg-b').elem, ['10.0.1.5', '10.0.2.6', '10.0.2.21']);
  assert.deepEqual(set(t, 'm_sg-a').elem, ['10.0.1.5', '10.0.1.30']);
  assert.deepEqual(set(t, 'port_addrs').elem[1], { concat: ['p00000002', '0a:92:0a:00:02:06', '10.0.2.6'] }, 'MAC lowercased');
  assert.deepEqual(set(arp, 'port_arp').elem[0], { concat: ['p00000001', '0a:92:0a:00:01:05', '0a:92:0a:00:01:05', '10.0.1.5'] });
  assert.deepEqual(rulesText(arp, 'input'), ['iifname != @port_ifs accept', 'iifname . ether saddr . arp saddr ether . arp saddr ip @port_arp accept',
    'iifname . ether saddr . arp saddr ether . arp saddr ip @port_arp_routed accept', 'drop']);
});

test('the ruleset text: base chains, hooks and priorities as docs/dataplane.md describes', () => {
  const text = renderTable(inet(desiredTables(richVpc())));
  for (const line of [
    'table inet weft {',
    '\tmap egress_ports {\n\t\ttype ifname : verdict\n\t\telements = { "p00000001" : jump egress-p00000001, "p00000002" : jump egress-p00000002, "p00000003" : jump egress-p00000003 }',
    '\tchain prerouting {\n\t\ttype filter hook prerouting priority -150; policy accept;\n\t\tiifname != @port_ifs accept\n\t\tiifname . ether saddr . ip saddr @port_addrs accept\n\t\tiifname . ether saddr . ip saddr @port_routed accept\n\t\tdrop\n\t}',
    '\tchain acl {\n\t\ttype filter hook forward priority -10; policy accept;\n\t\tiifname vmap @acl_out_ports\n\t\toifname vmap @acl_in_ports\n\t}',
    '\tchain acl-out-subnet-a {\n\t\tip daddr 10.0.1.0/24 return\n\t\tip daddr . meta l4proto . th dport @acl-web_egress return\n\t\tdrop\n\t}',
    '\tchain acl-in-subnet-a {\n\t\tip saddr 10.0.1.0/24 return\n\t\tip saddr . meta l4proto . th dport @acl-web_ingress return\n\t\tdrop\n\t}',
    '\tchain egress {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\tct state established,related accept\n\t\tiifname @port_ifs ct state invalid drop\n\t\tiifname vmap @egress_ports\n\t}',
    '\tchain ingress {\n\t\ttype filter hook forward priority 10; policy accept;\n\t\tct state established,related accept\n\t\toifname @port_ifs ct state invalid drop\n\t\toifname vmap @ingress_ports\n\t}',
    '\tset port_addrs {\n\t\ttype ifname . ether_addr . ipv4_addr\n\t\telements = { "p00000001" . 0a:92:0a:00:01:05 . 10.0.1.5,',
  ])
    assert.ok(text.includes(line), `missing:\n${line}\nin:\n${text}`);
});

test('the kernel’s own listing of the rules compares equal: nothing to do', () => {
  // RICH_LISTING is what nftables 1.0.6 listed after loading these very tables.
  const actual = listed(RICH_LISTING);
  assert.deepEqual(actual.map((t) => `${t.family} ${t.name}`), ['inet weft', 'arp weft']);
  assert.equal(planNft(desiredTables(richVpc()), actual), undefined);
  // Tables without Weft's digest (made by hand, or by a Weft before digests) are made again.
  assert.deepEqual(planNft(desiredTables(richVpc()), tablesFromListing(RICH_LISTING))?.replaced, ['inet weft', 'arp weft']);
});

test('no tables yet: both are created in one transaction that deletes any old copy first', () => {
  const change = planNft(desiredTables(richVpc()), [])!;
  assert.deepEqual(change.replaced, ['inet weft', 'arp weft']);
  assert.deepEqual(change.sets, []);
  const lines = change.text.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['table inet weft {}', 'delete table inet weft', 'table inet weft {']);
  assert.ok(lines.includes('table arp weft {}') && lines.includes('delete table arp weft'));
});

test('a membership change rewrites only the member set', () => {
  const vpc = richVpc();
  vpc.groupMembers['sg-b'] = ['10.0.2.6', '10.0.9.9'];
  const change = planNft(desiredTables(vpc), listed(RICH_LISTING))!;
  assert.deepEqual(change.replaced, []);
  assert.deepEqual(change.sets, ['inet weft m_sg-b']);
  assert.equal(change.text, 'flush set inet weft m_sg-b\nadd element inet weft m_sg-b { 10.0.2.6, 10.0.9.9 }\n');
  vpc.groupMembers['sg-b'] = [];
  assert.equal(planNft(desiredTables(vpc), listed(RICH_LISTING))!.text, 'flush set inet weft m_sg-b\n');
});

test('element order does not matter; a rule deleted or added by hand does; a rule moved within its chain is not seen (digests and counts, not rule bodies)', () => {
  const listing = structuredClone(RICH_LISTING) as Record<string, Record<string, unknown>>[];
  const setEntry = listing.find((e) => e.set?.name === 'm_sg-b')!;
  (setEntry.set!.elem as unknown[]).reverse();
  assert.equal(planNft(desiredTables(richVpc()), listed(listing)), undefined);

  const ruleIndex = listing.findIndex((e) => e.rule?.chain === 'sg-a-ingress');
  const withoutRule = listing.filter((_, i) => i !== ruleIndex);
  assert.deepEqual(planNft(desiredTables(richVpc()), listed(withoutRule))?.replaced, ['inet weft']);

  const swapped = [...listing];
  [swapped[ruleIndex], swapped[ruleIndex + 1]] = [swapped[ruleIndex + 1]!, swapped[ruleIndex]!];
  assert.equal(planNft(desiredTables(richVpc()), listed(swapped)), undefined, 'as knftables: the comment and the counts are compared, not what nft prints of each rule');

  const arpRule = listing.findIndex((e) => e.rule?.family === 'arp');
  const extra = [...listing, { rule: { ...listing[arpRule]!.rule, handle: 99 } }];
  assert.deepEqual(planNft(desiredTables(richVpc()), listed(extra))?.replaced, ['arp weft']);
});

test('a policy change replaces the table, whose text loads the new rule', () => {
  const vpc = richVpc();
  vpc.securityGroups['sg-b']!.ingress.unshift(deny('tcp', { cidr: '10.0.1.0/24' }, [[9000, 9000]]));
  const change = planNft(desiredTables(vpc), listed(RICH_LISTING))!;
  assert.deepEqual(change.replaced, ['inet weft']);
  assert.match(change.text, /chain sg-b-ingress \{\n\t\tip saddr 10\.0\.1\.0\/24 tcp dport 9000 drop\n\t\tip saddr @m_sg-a accept\n\t\}/);
});
