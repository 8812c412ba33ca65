import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayConfig } from '../../src/region/bird.js';
import { conntrackdConfig } from '../../src/region/conntrackd.js';

describe('gateway BIRD and conntrackd configurations', () => {
  const config = gatewayConfig({
    routerId: '100.64.1.12',
    asn: 64513,
    peerAs: 64512,
    log: '/tmp/x.log',
    maxRank: 2,
    sessions: [
      { name: 'fabric', local: '100.64.1.12', neighbor: '100.64.0.1', ifname: 'u0', announce: ['100.64.255.1/32', '100.64.255.11/32', '100.64.255.12/32'], prepend: { '100.64.255.11/32': 1, '100.64.255.12/32': 0 } },
      { name: 'internet', local: '198.19.255.12', neighbor: '198.19.255.1', ifname: 'i0', announce: ['198.51.100.0/24'], kernelTable: 202 },
    ],
  });

  it("announces another node's tunnel address with this node's rank in extra AS hops, its own with none", () => {
    assert.match(config, /if net = 100\.64\.255\.11\/32 then \{ bgp_path\.prepend\(64513\); \}/);
    assert.doesNotMatch(config, /if net = 100\.64\.255\.12\/32/);
  });

  it('learns the NAT EIPs from the kernel table and prepends by their metric, up to the largest rank', () => {
    assert.match(config, /protocol kernel internet_learned \{\n {2}ipv4 \{ import all; export none; \};\n {2}kernel table 202;\n {2}learn;/);
    assert.match(config, /if krt_metric >= 1 then bgp_path\.prepend\(64513\);\n\s+if krt_metric >= 2 then bgp_path\.prepend\(64513\);\n\s+accept;/);
    assert.doesNotMatch(config, /krt_metric >= 3/);
    assert.equal((config.match(/protocol kernel/g) ?? []).length, 1, 'only the internet session learns');
  });

  it('syncs sessions over the underlay with the external cache off', () => {
    const c = conntrackdConfig({ address: '100.64.1.12', ifname: 'u0', dir: '/d', name: 'gw2', log: '/l' });
    assert.match(c, /DisableExternalCache On/);
    assert.match(c, /IPv4_interface 100\.64\.1\.12\n\s+Interface u0/);
    assert.match(c, /UNIX \{ Path \/d\/gw2\.ctl \}/);
  });
});
