/**
 * Load balancers through the LB nodes, as root (docs/load-balancers.md): an
 * internal VIP spreads connections over the backends by the Maglev table,
 * weights honoured, the client's address kept; a public VIP is reached from
 * the internet client; long downloads survive each LB node failing and
 * recovering; a backend that stops answering leaves the table by its health
 * checks and comes back; weight 0 drains.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { isRoot, routerVia, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run } from '../helpers/region.js';

/**
 * A backend: `GET /` answers `<its address> <the client's address>`; `GET
 * /big` streams 24 MiB over ~12 s with its address in `X-Backend`.
 */
const SERVER = `
const http = require('http');
const me = process.argv[1];
http.createServer((q, r) => {
  const peer = q.socket.remoteAddress.replace(/^::ffff:/, '');
  if (q.url !== '/big') return r.end(me + ' ' + peer + '\\n');
  r.writeHead(200, { 'x-backend': me, 'content-length': String(96 * 262144) });
  let n = 0;
  const chunk = Buffer.alloc(262144, 120);
  const t = setInterval(() => { r.write(chunk); if (++n === 96) { clearInterval(t); r.end(); } }, 125);
  r.on('close', () => clearInterval(t));
}).listen(8080);
const udp = require('dgram').createSocket('udp4');
udp.on('message', (m, from) => udp.send(me + ' ' + from.address + '\\n', from.port, from.address));
udp.bind(5353);
`;
const BIG = 96 * 262144;

describe(`load balancers in a region in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  let lbId = '';
  let listenerId = '';
  let publicLb = '';
  let publicListener = '';
  let vip = '';
  let publicVip = '';
  let client = '';
  let clientIp = '';
  let vpcId = '';
  const backends: { id: string; ip: string; stop: () => void }[] = [];
  const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

  /** `count` requests from the client instance (or the internet) to `url`; the answers' backend addresses, and the client address each saw. */
  const spread = async (url: string, count: number, from: 'client' | 'internet' = 'client') => {
    const script = `for i in $(seq 1 ${count}); do curl -s -m 3 ${url} || echo FAIL; done`;
    const out =
      from === 'client' ? (await box.exec(client, ['sh', '-c', script], 120_000)).out : (await run(['exec', '--data-dir', box.dataDir, 'internet', '--', 'sh', '-c', script])).stdout;
    const lines = out.trim().split('\n');
    return { backends: lines.map((l) => l.split(' ')[0]!), peers: new Set(lines.map((l) => l.split(' ')[1])) };
  };
  const counts = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const health = async (lb: string) =>
    ((await box.clb.DescribeTargetHealth({ LoadBalancerIds: [lb] })).LoadBalancers ?? []).flatMap((l) => (l.Listeners ?? []).flatMap((ls) => (ls.Rules ?? []).flatMap((r) => r.Targets ?? [])));
  const task = async (requestId: string) =>
    until(`task ${requestId}`, async () => (await box.clb.DescribeTaskStatus({ TaskId: requestId })).Status === 0, 60_000);
  const weights = (w: number[]) => backends.map((b, i) => ({ InstanceId: b.id, Port: 8080, Weight: w[i]! }));

  before(async () => {
    box = await startBox(2, {}, 0, 2);
    vpcId = (await box.vpc.CreateVpc({ VpcName: 'lb', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const backSubnet = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'back', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const frontSubnet = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'front', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    const sg = (await box.vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'open',
      GroupDescription: 'open both ways',
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
    })).SecurityGroup!.SecurityGroupId!;
    // Three backends over both hosts (one zone each, placement spreads), the client in the other subnet.
    const back = (await box.cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: backSubnet }, SecurityGroupIds: [sg], InstanceCount: 3 })).InstanceIdSet!;
    client = (await box.cvm.RunInstances({ Placement: { Zone: 'local-2' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: frontSubnet }, SecurityGroupIds: [sg], InstanceCount: 1 })).InstanceIdSet![0]!;
    const running = await until('RUNNING', async () => {
      const set = (await box.cvm.DescribeInstances({ InstanceIds: [...back, client] })).InstanceSet!;
      return set.every((i) => i.InstanceState === 'RUNNING') && set;
    }, 90_000);
    clientIp = running.find((i) => i.InstanceId === client)!.PrivateIpAddresses![0]!;
    for (const id of back) {
      const ip = running.find((i) => i.InstanceId === id)!.PrivateIpAddresses![0]!;
      backends.push({ id, ip, stop: box.spawnIn(id, ['node', '-e', SERVER, ip]) });
    }

    const created = await box.clb.CreateLoadBalancer({ LoadBalancerType: 'INTERNAL', VpcId: vpcId, SubnetId: backSubnet, LoadBalancerName: 'web' });
    lbId = created.LoadBalancerIds![0]!;
    const opened = await box.clb.CreateLoadBalancer({ LoadBalancerType: 'OPEN', VpcId: vpcId, LoadBalancerName: 'public' });
    publicLb = opened.LoadBalancerIds![0]!;
    const lbs = await until('both normal', async () => {
      const set = (await box.clb.DescribeLoadBalancers({ LoadBalancerIds: [lbId, publicLb] })).LoadBalancerSet!;
      return set.length === 2 && set.every((l) => l.Status === 1) && set;
    }, 60_000);
    vip = lbs.find((l) => l.LoadBalancerId === lbId)!.LoadBalancerVips![0]!;
    publicVip = lbs.find((l) => l.LoadBalancerId === publicLb)!.LoadBalancerVips![0]!;
    const check = { HealthSwitch: 1, IntervalTime: 3, TimeOut: 2, HealthNum: 2, UnHealthNum: 2 };
    // Listener and target changes are tasks (TaskId = RequestId); the next change of a load balancer waits for them, as on Tencent.
    const listen = async (lb: string) => {
      const r = await box.clb.CreateListener({ LoadBalancerId: lb, Ports: [80], Protocol: 'TCP', ListenerNames: ['web'], HealthCheck: check });
      await task(r.RequestId!);
      return r.ListenerIds![0]!;
    };
    listenerId = await listen(lbId);
    publicListener = await listen(publicLb);
    await task((await box.clb.RegisterTargets({ LoadBalancerId: lbId, ListenerId: listenerId, Targets: weights([10, 10, 10]) })).RequestId!);
    await task((await box.clb.RegisterTargets({ LoadBalancerId: publicLb, ListenerId: publicListener, Targets: weights([10, 10, 10]) })).RequestId!);
    await until('every target alive', async () => {
      const all = [...(await health(lbId)), ...(await health(publicLb))];
      return all.length === 6 && all.every((t) => t.HealthStatus);
    }, 60_000);
    // The nodes load the tables the health checks filled (a 65537-slot map takes them a moment).
    await until('both VIPs answer', async () => !(await spread(`http://${vip}/`, 10)).backends.includes('FAIL') && !(await spread(`http://${publicVip}/`, 10, 'internet')).backends.includes('FAIL'), 30_000);
  });
  after(async () => {
    for (const b of backends) b.stop();
    await box?.down();
  });

  it('lists the LB nodes with role lb, and the routers reach the cluster and the public VIP over both', async () => {
    const nodes = JSON.parse((await run(['node', 'list', '--data-dir', box.dataDir])).stdout) as { name: string; role: string; state: string }[];
    assert.deepEqual(nodes.filter((n) => n.role === 'lb').map((n) => `${n.name} ${n.state}`), ['lb1 up', 'lb2 up']);
    await until('the cluster address announced by both', async () => routerVia(box, 'fab', '100.64.254.1').length === 2, 15_000);
    await until('public VIP announced by both', async () => routerVia(box, 'inet', publicVip).length === 2, 15_000);
  });

  it('programs the same tables on every LB node (the digest of their Maglev maps and listeners)', async () => {
    const digest = (node: string) => execFileSync('ip', ['netns', 'exec', `${box.prefix}-${node}-${vpcId}`, 'nft', 'list', 'table', 'ip', 'weftlbd'], { encoding: 'utf8' }).match(/comment "([^"]+)"/)?.[1];
    // Each node applies a document (and a health verdict's change) on its own time: the same tables within seconds.
    const [one, two] = await until('the same tables on lb1 and lb2', async () => {
      const both = [digest('lb1'), digest('lb2')];
      return both[0] === both[1] && both;
    }, 15_000);
    assert.match(one ?? '', /^weft [0-9a-f]{16}$/);
    assert.equal(one, two);
  });

  it('spreads connections to an internal VIP over every backend, the backends seeing the client', async () => {
    const { backends: hit, peers } = await spread(`http://${vip}/`, 60);
    const c = counts(hit);
    assert.deepEqual([...c.keys()].sort(), backends.map((b) => b.ip).sort(), `every backend answers: ${JSON.stringify([...c])}`);
    assert.deepEqual([...peers], [clientIp], 'the backend sees the client address');
  });

  it('reaches a public VIP from the internet client, the backends seeing its address', async () => {
    const { backends: hit, peers } = await spread(`http://${publicVip}/`, 30, 'internet');
    assert.ok(!hit.includes('FAIL'), `every request answered: ${hit.join(' ')}`);
    assert.ok(new Set(hit).size >= 2, `spread: ${JSON.stringify([...counts(hit)])}`);
    assert.deepEqual([...peers], ['198.18.0.10']);
  });

  it('balances a UDP listener too', async () => {
    const r = await box.clb.CreateListener({ LoadBalancerId: lbId, Ports: [53], Protocol: 'UDP', ListenerNames: ['dns'], HealthCheck: { HealthSwitch: 0 } });
    await task(r.RequestId!);
    const udpListener = r.ListenerIds![0]!;
    await task((await box.clb.RegisterTargets({ LoadBalancerId: lbId, ListenerId: udpListener, Targets: backends.map((b) => ({ InstanceId: b.id, Port: 5353 })) })).RequestId!);
    // Each datagram from its own source port: a flow each (side by side: each nc waits a second for its answer).
    const script = `for i in $(seq 1 30); do echo q | nc -u -w 1 ${vip} 53 & done; wait`;
    const seen = await until('UDP answers', async () => {
      const out = (await box.exec(client, ['sh', '-c', script], 60_000)).out.trim().split('\n').filter(Boolean);
      return out.length >= 25 && out;
    }, 30_000);
    assert.ok(new Set(seen.map((l) => l.split(' ')[0])).size >= 2, `spread: ${seen.join(', ')}`);
    assert.deepEqual([...new Set(seen.map((l) => l.split(' ')[1]))], [clientIp]);
  });

  it('honours weights', async () => {
    await task((await box.clb.ModifyTargetWeight({ LoadBalancerId: lbId, ListenerId: listenerId, Targets: weights([10, 10, 40]) })).RequestId!);
    const c = counts((await spread(`http://${vip}/`, 120)).backends);
    const heavy = c.get(backends[2]!.ip) ?? 0;
    const light = Math.max(c.get(backends[0]!.ip) ?? 0, c.get(backends[1]!.ip) ?? 0);
    assert.ok(heavy > 2 * light, `weight 40 against 10: ${JSON.stringify([...c])}`);
    await task((await box.clb.ModifyTargetWeight({ LoadBalancerId: lbId, ListenerId: listenerId, Targets: weights([10, 10, 10]) })).RequestId!);
  });

  it('keeps long downloads going while each LB node fails and recovers', async () => {
    const download = (where: string[], url: string) =>
      new Promise<string>((ok) => {
        const p = spawn('ip', ['netns', 'exec', ...where, 'curl', '-s', '-m', '60', '-o', '/dev/null', '-w', '%{size_download}', url], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('close', () => ok(out));
      });
    const downloads = [
      ...[1, 2, 3].map(() => download([`${box.prefix}-${client}`], `http://${vip}/big`)),
      ...[1, 2, 3].map(() => download([`${box.prefix}-internet`], `http://${publicVip}/big`)),
    ];
    for (const node of ['lb1', 'lb2']) {
      await pause(1500);
      assert.equal((await run(['node', 'fail', '--data-dir', box.dataDir, node])).code, 0);
      await pause(2000);
      assert.equal((await run(['node', 'recover', '--data-dir', box.dataDir, node])).code, 0);
      await until(`${node} back`, async () => routerVia(box, 'fab', '100.64.254.1').length === 2 && routerVia(box, 'inet', publicVip).length === 2, 15_000);
    }
    const sizes = await Promise.all(downloads);
    assert.deepEqual(sizes, downloads.map(() => String(BIG)), 'every download completes whole');
  });

  it('takes a backend that stops answering out of the table, and back when it answers again', async () => {
    const victim = backends[0]!;
    victim.stop();
    await until('marked dead', async () => (await health(lbId)).some((t) => t.IP === victim.ip && t.HealthStatus === false), 30_000);
    // Once the nodes have the table without it (its refusals stop), every new connection goes elsewhere.
    let hit: string[] = [];
    await until('the table without it', async () => {
      hit = (await spread(`http://${vip}/`, 40)).backends;
      return !hit.includes(victim.ip) && !hit.includes('FAIL');
    }, 20_000).catch(() => assert.fail(`new connections avoid it: ${hit.join(' ')}`));
    victim.stop = box.spawnIn(victim.id, ['node', '-e', SERVER, victim.ip]);
    await until('alive again', async () => (await health(lbId)).some((t) => t.IP === victim.ip && t.HealthStatus === true), 30_000);
    await until('it takes connections again', async () => (await spread(`http://${vip}/`, 20)).backends.includes(victim.ip), 20_000);
  });

  it('drains a target at weight 0: its running download completes, new connections avoid it', async () => {
    const started = new Promise<{ backend: string; size: string }>((ok) => {
      const p = spawn('ip', ['netns', 'exec', `${box.prefix}-${client}`, 'curl', '-s', '-m', '60', '-D', '-', '-o', '/dev/null', '-w', 'size %{size_download}\n', `http://${vip}/big`], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', () => ok({ backend: /x-backend: (\S+)/i.exec(out)?.[1] ?? '', size: /size (\d+)/.exec(out)?.[1] ?? '' }));
    });
    await pause(1500);
    // Which backend carries it: the one with a connection from the client now.
    const carrying = await until('the download found', async () => {
      for (const b of backends) if ((await box.exec(b.id, ['ss', '-Htn', 'state', 'established', `( sport = :8080 and dst ${clientIp} )`])).out.trim()) return b;
      return undefined;
    }, 10_000);
    const drain = backends.map((b) => ({ InstanceId: b.id, Port: 8080, Weight: b === carrying ? 0 : 10 }));
    await task((await box.clb.ModifyTargetWeight({ LoadBalancerId: lbId, ListenerId: listenerId, Targets: drain })).RequestId!);
    const { backends: hit } = await spread(`http://${vip}/`, 40);
    assert.ok(!hit.includes(carrying.ip), `new connections avoid the drained target: ${hit.join(' ')}`);
    const done = await started;
    assert.equal(done.backend, carrying.ip);
    assert.equal(done.size, String(BIG), 'the drained target finishes its download');
  });
});
