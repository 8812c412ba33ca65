import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { containsCidr, formatCidr, parseCidr } from '../../src/core/cidr.js';
import { maxPerDestination, NEXT_HOPS, nextHopKind, type NextHopEnv } from '../../src/core/next-hops.js';
import { checkRouteSet, parseDestination, RouteError, type PlannedRoute } from '../../src/core/route-set.js';

const codeOf = async (f: () => unknown): Promise<string> => {
  try {
    await f();
  } catch (e) {
    if (e instanceof RouteError) return e.code;
    throw e;
  }
  return 'ok';
};

const VPC = parseCidr('10.0.0.0/16')!;
const stored = (destination: string, gatewayType: string, gatewayId: string, enabled = true, routeId = 1): PlannedRoute => ({
  destination,
  gatewayType,
  gatewayId,
  enabled,
  stored: { routeItemId: `rti-0000000${routeId}`, routeId },
});
const given = (param: string, destination: string, gatewayType: string, gatewayId: string, enabled = true): PlannedRoute => ({
  destination,
  gatewayType,
  gatewayId,
  enabled,
  param,
});
const check = (routes: PlannedRoute[]) => codeOf(() => checkRouteSet(VPC, routes, maxPerDestination));

describe('route set rules', () => {
  it('parses destinations, naming the network address of a block with host bits', async () => {
    assert.equal(formatCidr(parseDestination('192.168.1.0/24', 'D')), '192.168.1.0/24');
    assert.throws(() => parseDestination('192.168.1.9/24', 'Routes.0.DestinationCidrBlock'), /Routes\.0\.DestinationCidrBlock.*192\.168\.1\.0\/24/);
    for (const bad of ['192.168.1.0', '192.168.1.0/33', '300.1.1.0/24', '', 'a/b'])
      assert.equal(await codeOf(() => parseDestination(bad, 'D')), 'InvalidParameterValue.Malformed', bad);
  });

  it('forms ECMP groups of NORMAL_CVM routes only, and refuses duplicates and mixed types among enabled routes', async () => {
    const cvm1 = stored('192.168.0.0/24', 'NORMAL_CVM', '10.0.1.5');
    assert.equal(await check([cvm1, given('Routes.0', '192.168.0.0/24', 'NORMAL_CVM', '10.0.1.6')]), 'ok');
    assert.equal(await check([cvm1, given('Routes.0', '192.168.0.0/24', 'NORMAL_CVM', '10.0.1.5')]), 'InvalidParameterValue.Duplicate');
    assert.equal(
      await check([cvm1, given('Routes.0', '192.168.0.0/24', 'NORMAL_CVM', '10.0.1.5', false)]),
      'InvalidParameterValue.Duplicate',
      'a disabled copy is still a copy',
    );
    assert.equal(await check([cvm1, given('Routes.0', '192.168.0.0/24', 'PEERCONNECTION', 'pcx-00000001')]), 'UnsupportedOperation.EcmpWithUserRoute');
    assert.equal(await check([stored('192.168.0.0/24', 'NORMAL_CVM', '10.0.1.5', false), given('Routes.0', '192.168.0.0/24', 'PEERCONNECTION', 'pcx-00000001')]), 'ok');
    assert.equal(
      await check([given('Routes.0', '192.168.0.0/24', 'PEERCONNECTION', 'pcx-00000001'), given('Routes.1', '192.168.0.0/24', 'PEERCONNECTION', 'pcx-00000002')]),
      'UnsupportedOperation.Ecmp',
    );
    assert.equal(await check([cvm1, given('Routes.0', '192.168.0.0/25', 'PEERCONNECTION', 'pcx-00000001')]), 'ok', 'a longer prefix is another destination');
  });

  it('lets an ECMP group of NORMAL_CVM routes grow to 8 next hops, counting enabled ones only', async () => {
    const hops = (n: number, enabled = true) => Array.from({ length: n }, (_, i) => stored('1.0.0.0/8', 'NORMAL_CVM', `10.0.1.${i + 1}`, enabled, i + 1));
    assert.equal(await check([...hops(7), given('Routes.0', '1.0.0.0/8', 'NORMAL_CVM', '10.0.2.1')]), 'ok');
    assert.equal(await check([...hops(8), given('Routes.0', '1.0.0.0/8', 'NORMAL_CVM', '10.0.2.1')]), 'UnsupportedOperation.Ecmp');
    assert.equal(await check([...hops(8, false), given('Routes.0', '1.0.0.0/8', 'NORMAL_CVM', '10.0.2.1')]), 'ok');
    assert.throws(
      () =>
        checkRouteSet(
          VPC,
          Array.from({ length: 9 }, (_, i) => given(`Routes.${i}`, '1.0.0.0/8', 'NORMAL_CVM', `10.0.1.${i + 1}`)),
          maxPerDestination,
        ),
      /`Routes\.8`.*at most 8/,
    );
  });

  it('reports the later of two request items, and leaves stored routes unchecked among themselves', () => {
    assert.throws(
      () => checkRouteSet(VPC, [given('Routes.0', '1.0.0.0/8', 'NORMAL_CVM', '10.0.1.5'), given('Routes.1', '1.0.0.0/8', 'NORMAL_CVM', '10.0.1.5')], maxPerDestination),
      /^RouteError: `Routes\.1`.*`Routes\.0`/,
    );
    assert.doesNotThrow(() => checkRouteSet(VPC, [stored('1.0.0.0/8', 'NORMAL_CVM', '10.0.1.5', true, 1), stored('1.0.0.0/8', 'PEERCONNECTION', 'pcx-00000001', true, 2)], maxPerDestination));
  });

  it('refuses exactly the destinations inside the VPC block, not those containing it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        const c = parseCidr(`${[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.')}/${prefix}`, false)!;
        const dest = formatCidr(c);
        const refused = (() => {
          try {
            checkRouteSet(VPC, [given('Routes.0', dest, 'NORMAL_CVM', '10.0.1.5')], maxPerDestination);
            return false;
          } catch (e) {
            assert.equal((e as RouteError).code, 'InvalidParameterValue.VpcCidrConflict');
            return true;
          }
        })();
        assert.equal(refused, containsCidr(VPC, c), dest);
      }),
    );
  });
});

describe('next hop kinds', () => {
  const env: NextHopEnv = {
    vpcId: 'vpc-00000001',
    instanceAt: async (ip) => ip === '10.0.1.5',
    activePeering: async (id) => (id === 'pcx-00000001' ? { peerVpcId: 'vpc-00000002', peerCidr: '172.16.0.0/16' } : undefined),
    natGatewayState: async (id) => ({ 'nat-00000001': 'AVAILABLE', 'nat-00000002': 'PENDING', 'nat-00000003': 'PENDFAILURE' })[id],
  };
  const dest = (s: string) => parseCidr(s)!;

  it('knows NORMAL_CVM, PEERCONNECTION, NAT and EIP in any case, refuses LOCAL as the system route and names what Weft lacks', async () => {
    assert.equal(nextHopKind('normal_cvm', 'Routes.0').type, 'NORMAL_CVM');
    assert.equal(nextHopKind('PEERCONNECTION', 'Routes.0').type, 'PEERCONNECTION');
    assert.equal(nextHopKind('nat', 'Routes.0').type, 'NAT');
    assert.equal(await codeOf(() => nextHopKind('LOCAL', 'Routes.0')), 'UnsupportedOperation.SystemRoute');
    assert.equal(nextHopKind('eip', 'Routes.0').type, 'EIP');
    for (const t of ['VPN', 'HAVIP', 'DIRECTCONNECT', 'CVM', 'GWLB_ENDPOINT'])
      assert.equal(await codeOf(() => nextHopKind(t, 'Routes.0')), 'UnsupportedOperation', t);
    assert.equal(await codeOf(() => nextHopKind('WORMHOLE', 'Routes.0')), 'InvalidParameterValue');
    assert.equal(maxPerDestination('NORMAL_CVM'), 8);
    assert.equal(maxPerDestination('PEERCONNECTION'), 1);
    assert.equal(maxPerDestination('NAT'), 1);
  });

  it('takes 0 as the GatewayId of an EIP route, as Tencent documents, and nothing else', async () => {
    const eip = NEXT_HOPS.EIP!;
    assert.equal(await eip.check('0', dest('0.0.0.0/0'), env, 'Routes.0'), '0');
    assert.equal(await codeOf(() => eip.check('eip-12345678', dest('0.0.0.0/0'), env, 'Routes.0')), 'InvalidParameterValue.RouteNextHopInvalid');
  });

  it('checks a NAT next hop is a NAT gateway of the VPC, AVAILABLE or PENDING', async () => {
    const nat = NEXT_HOPS.NAT!;
    assert.equal(await nat.check('nat-00000001', dest('0.0.0.0/0'), env, 'Routes.0'), 'nat-00000001');
    assert.equal(await nat.check('nat-00000002', dest('0.0.0.0/0'), env, 'Routes.0'), 'nat-00000002');
    assert.equal(await codeOf(() => nat.check('nat-00000003', dest('0.0.0.0/0'), env, 'Routes.0')), 'InvalidParameterValue.RouteNextHopInvalid');
    assert.equal(await codeOf(() => nat.check('nat-00000009', dest('0.0.0.0/0'), env, 'Routes.0')), 'InvalidParameterValue.RouteNextHopInvalid');
    assert.equal(await codeOf(() => nat.check('nat-1', dest('0.0.0.0/0'), env, 'Routes.0')), 'InvalidParameterValue.Malformed');
  });

  it('checks an instance next hop is an address of an instance of the VPC', async () => {
    const cvm = NEXT_HOPS.NORMAL_CVM!;
    assert.equal(await cvm.check('10.0.1.5', dest('1.0.0.0/8'), env, 'Routes.0'), '10.0.1.5');
    assert.equal(await codeOf(() => cvm.check('10.0.1.6', dest('1.0.0.0/8'), env, 'Routes.0')), 'InvalidParameterValue.RouteNextHopInvalid');
    assert.equal(await codeOf(() => cvm.check('ins-12345678', dest('1.0.0.0/8'), env, 'Routes.0')), 'InvalidParameterValue.RouteNextHopInvalid');
  });

  it('checks a peering next hop is active and the destination lies in the peer VPC', async () => {
    const pcx = NEXT_HOPS.PEERCONNECTION!;
    assert.equal(await pcx.check('pcx-00000001', dest('172.16.3.0/24'), env, 'Routes.0'), 'pcx-00000001');
    assert.equal(await pcx.check('pcx-00000001', dest('172.16.0.0/16'), env, 'Routes.0'), 'pcx-00000001');
    assert.equal(await codeOf(() => pcx.check('pcx-00000001', dest('172.0.0.0/8'), env, 'Routes.0')), 'InvalidParameterValue.CidrNotInPeerVpc');
    assert.equal(await codeOf(() => pcx.check('pcx-00000002', dest('172.16.3.0/24'), env, 'Routes.0')), 'InvalidParameterValue.RouteNextHopInvalid');
    assert.equal(await codeOf(() => pcx.check('pcx-2', dest('172.16.3.0/24'), env, 'Routes.0')), 'InvalidParameterValue.Malformed');
  });
});
