/**
 * The region in a box's edge, as root: gateway nodes announced by BGP (BIRD)
 * to the fabric and internet routers, the internet client, and failure drills
 * (`weft node list|fail|recover`) that take a gateway out of the routers'
 * ECMP routes and bring it back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { background, failEachGateway, isRoot, openInstance, routerVia, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run } from '../helpers/region.js';

describe(`the edge of a region in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  const weft = (...args: string[]) => run([...args.slice(0, 2), '--data-dir', box.dataDir, ...args.slice(2)]);
  const nodes = async () => JSON.parse((await weft('node', 'list')).stdout) as { name: string; role: string; zone?: string; state: string }[];
  const internet = (...cmd: string[]) => run(['exec', '--data-dir', box.dataDir, 'internet', '--', ...cmd]);
  /** The gateways a router's route to `prefix` goes through. */
  const via = (router: string, prefix: string) => routerVia(box, router, prefix);
  const birds = () => {
    try {
      return execFileSync('pgrep', ['-f', `${box.dataDir}/bird/`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  };

  before(async () => {
    box = await startBox(2, {}, 2);
  });
  after(async () => {
    const dataDir = box?.dataDir;
    await box?.down();
    if (dataDir) assert.deepEqual(birds(), [], 'weft down stops every BIRD it started');
  });

  it('lists hosts and gateways, all up', async () => {
    assert.deepEqual(await nodes(), [
      { name: 'h1', role: 'host', zone: 'local-1', state: 'up' },
      { name: 'h2', role: 'host', zone: 'local-2', state: 'up' },
      { name: 'gw1', role: 'gateway', state: 'up' },
      { name: 'gw2', role: 'gateway', state: 'up' },
    ]);
    assert.equal(birds().length, 4, 'one BIRD per router and gateway');
  });

  it('gives the internet client 198.18.0.10 and routes the public pools over every gateway', async () => {
    const addr = await internet('ip', '-4', '-o', 'addr', 'show');
    assert.equal(addr.code, 0, addr.stderr);
    assert.match(addr.stdout, /198\.18\.0\.10\/24/);
    for (const pool of ['198.51.100.0/24', '203.0.113.0/24']) assert.deepEqual(via('inet', pool), ['198.19.255.11', '198.19.255.12'], pool);
    assert.deepEqual(via('fab', '100.64.255.1'), ['100.64.1.11', '100.64.1.12'], 'the cluster tunnel address over both gateways');
    for (const gw of ['198.51.100.1', '203.0.113.1']) assert.equal((await internet('ping', '-c', '1', '-W', '1', gw)).code, 0, `internet → ${gw}`);
    const fromHost = execFileSync('ip', ['netns', 'exec', `${box.prefix}-h1`, 'ping', '-c', '1', '-W', '1', '100.64.255.1'], { encoding: 'utf8' });
    assert.match(fromHost, /1 received/, 'a host reaches the gateway cluster through the fabric router');
  });

  it('takes a failed gateway out of both routers within a second, and back once it recovers', async () => {
    const failed = await weft('node', 'fail', 'gw1');
    assert.equal(failed.code, 0, failed.stderr);
    assert.deepEqual(JSON.parse(failed.stdout), { name: 'gw1', role: 'gateway', state: 'failed' });
    const t0 = Date.now();
    await until('gw1 withdrawn', async () => via('inet', '198.51.100.0/24').join() === '198.19.255.12' && via('fab', '100.64.255.1').join() === '100.64.1.12', 5000);
    const withdrawnMs = Date.now() - t0;
    assert.ok(withdrawnMs < 1500, `withdrawn after ${withdrawnMs} ms (BFD: 3 × 100 ms)`);
    assert.equal((await internet('ping', '-c', '3', '-i', '0.2', '-W', '1', '198.51.100.1')).code, 0, 'the other gateway still answers');
    assert.equal((await nodes()).find((n) => n.name === 'gw1')?.state, 'failed');

    const back = await weft('node', 'recover', 'gw1');
    assert.equal(back.code, 0, back.stderr);
    assert.equal(JSON.parse(back.stdout).state, 'up');
    await until('gw1 back', async () => via('inet', '198.51.100.0/24').length === 2 && via('fab', '100.64.255.1').length === 2, 15_000);
  });

  describe('elastic IPs through the gateways', () => {
    let vpcId = '';
    let instanceId = '';
    let privateIp = '';
    let eip = '';
    let publicIp = '';
    const ns = () => `${box.prefix}-${instanceId}`;
    const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
    const routers = (gw: string) => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`${box.prefix}-${gw}-vpc-`));

    before(async () => {
      ({ vpcId, instanceId, privateIp } = await openInstance(box, 'pub'));
    });

    it("puts the EIP's VPC on every gateway, and nothing before", async () => {
      assert.deepEqual(routers('gw1'), [], 'no EIP yet: nothing on the gateways');
      // 100 Mbit/s: carried by any gateway (limits under 10 Mbit/s are pinned to one node), and room for the download below.
      eip = (await box.vpc.AllocateAddresses({ AddressCount: 1, InternetMaxBandwidthOut: 100 })).AddressSet![0]!;
      await box.vpc.AssociateAddress({ AddressId: eip, InstanceId: instanceId });
      publicIp = (await box.vpc.DescribeAddresses({ AddressIds: [eip] })).AddressSet![0]!.AddressIp!;
      for (const gw of ['gw1', 'gw2'])
        await until(`${gw} holds ${vpcId}`, async () => {
          try {
            return execFileSync('ip', ['-n', `${box.prefix}-${gw}-${vpcId}`, 'route', 'show', `${privateIp}/32`], { encoding: 'utf8' }).includes('dev vx');
          } catch {
            return false;
          }
        });
      const listed = (await box.cvm.DescribeInstances({ InstanceIds: [instanceId] })).InstanceSet![0]!;
      assert.deepEqual(listed.PublicIpAddresses, [publicIp]);
    });

    it('carries ICMP, TCP and UDP both ways; the instance sees the client, the client sees the EIP', async () => {
      await until('internet → EIP', async () => (await internet('ping', '-c', '1', '-W', '1', publicIp)).code === 0);
      assert.equal((await box.exec(instanceId, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code, 0, 'EIP instance → internet');

      const inbound = background(ns(), ['timeout', '10', 'nc', '-n', '-v', '-l', '-p', '8080']);
      await pause(300);
      await run(['exec', '--data-dir', box.dataDir, 'internet', '--', 'sh', '-c', `echo hello | nc -n -w 1 ${publicIp} 8080`]);
      const seenInside = await inbound;
      assert.match(seenInside, /Connection received on 198\.18\.0\.10 /, 'the instance sees the client');
      assert.match(seenInside, /hello/);
      assert.ok(!(await box.exec(instanceId, ['ip', '-4', '-o', 'addr'])).out.includes(publicIp), 'the instance holds only its private address');

      const outbound = background(`${box.prefix}-internet`, ['timeout', '10', 'nc', '-n', '-v', '-l', '-p', '9090']);
      await pause(300);
      await box.exec(instanceId, ['sh', '-c', 'echo back | nc -n -w 1 198.18.0.10 9090']);
      const seenOutside = await outbound;
      assert.match(seenOutside, new RegExp(`Connection received on ${publicIp.replace(/\./g, '\\.')} `), 'the internet sees the EIP');
      assert.match(seenOutside, /back/);

      const udp = background(ns(), ['timeout', '10', 'nc', '-n', '-u', '-l', '-p', '7000']);
      await pause(300);
      for (let i = 0; i < 3; i++) await run(['exec', '--data-dir', box.dataDir, 'internet', '--', 'sh', '-c', `echo datagram | nc -n -u -w 1 ${publicIp} 7000`]);
      assert.match(await udp, /datagram/);
    });

    it('keeps a long download through the EIP going while each gateway fails and recovers in turn', async () => {
      // The instance streams 64 KiB every 20 ms for 12 s (~38 MB); the client counts what arrives.
      const total = 600 * 65536;
      const server = `const net=require('net');net.createServer(s=>{let n=0;const b=Buffer.alloc(65536,120);const t=setInterval(()=>{s.write(b);if(++n===600){clearInterval(t);s.end();}},20);}).listen(7070,'${privateIp}');`;
      const stop = box.spawnIn(instanceId, [process.execPath, '-e', server]);
      try {
        await pause(500);
        const download = run(['exec', '--data-dir', box.dataDir, 'internet', '--', 'sh', '-c', `nc -n -w 10 ${publicIp} 7070 | wc -c`]);
        await failEachGateway(box);
        const got = await download;
        assert.equal(got.code, 0, got.stderr);
        assert.equal(Number(got.stdout.trim()), total, 'every byte arrived');
      } finally {
        stop();
      }
    });

    it('stops carrying the EIP once it is unbound, and the gateways let the VPC go', async () => {
      await box.vpc.DisassociateAddress({ AddressId: eip });
      await until('gateways let the VPC go', async () => !routers('gw1').length && !routers('gw2').length, 20_000);
      assert.notEqual((await internet('ping', '-c', '1', '-W', '1', publicIp)).code, 0);
    });
  });

  it('fails and recovers a host the same way, and refuses a node it does not have', async () => {
    assert.equal(JSON.parse((await weft('node', 'fail', 'h2')).stdout).state, 'failed');
    assert.equal((await nodes()).find((n) => n.name === 'h2')?.state, 'failed');
    assert.equal(JSON.parse((await weft('node', 'recover', 'h2')).stdout).state, 'up');
    const bad = await weft('node', 'fail', 'gw9');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no node "gw9".*h1, h2, gw1, gw2/);
  });
});
