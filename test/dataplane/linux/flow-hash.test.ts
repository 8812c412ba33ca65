/**
 * flowSlot against the kernel: two namespaces with a random prefix joined by
 * a veth pair; the receiving one marks each new connection with the LB
 * node's flow hash expression (`ct mark set jhash … mod 65537 seed …`);
 * UDP datagrams and TCP connections from several addresses and ports; the
 * marks conntrack holds must be the slots flowSlot computes. The namespaces
 * are removed whatever happens.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MAGLEV_SIZE, flowHashExpr, flowSlot, maglevTable, type Flow } from '../../../src/core/maglev.js';

const sh = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const prefix = `wfh${randomBytes(2).toString('hex')}`;
const client = `${prefix}-c`;
const lb = `${prefix}-lb`;
const clientIps = ['10.77.0.10', '10.77.0.11', '10.77.0.200', '10.77.0.254'];
const lbIps = ['10.77.0.1', '10.77.0.2', '10.77.0.129'];

/** Runs a Node script inside namespace `ns`; resolves with its stdout. */
function nodeIn(ns: string, script: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`node in ${ns} exited ${code}: ${err}`))));
  });
}

/** Loads `rules` into the LB namespace. */
async function nft(rules: string): Promise<void> {
  const p = spawn('ip', ['netns', 'exec', lb, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  p.stdin.end(rules);
  const code = await new Promise((ok) => p.on('close', ok));
  assert.equal(code, 0, `nft: ${err}`);
}

/** Sends each UDP flow's first datagram from the client namespace. */
const sendUdp = (flows: Flow[]) =>
  nodeIn(
    client,
    `import dgram from 'node:dgram';
     for (const f of ${JSON.stringify(flows)}) await new Promise((ok, fail) => { const s = dgram.createSocket('udp4'); s.on('error', fail); s.bind(f.sport, f.src, () => s.send('x', f.dport, f.dst, () => { s.close(); ok(); })); });`,
  );

/** Original-direction 5-tuples and marks of `conntrack -L` output. */
export function parseConntrack(text: string): { flow: Flow; mark: number }[] {
  const out: { flow: Flow; mark: number }[] = [];
  for (const line of text.split('\n')) {
    const proto = /^(tcp|udp)\s/.exec(line)?.[1] as 'tcp' | 'udp' | undefined;
    if (!proto) continue;
    const field = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1];
    out.push({ flow: { protocol: proto, src: field('src')!, sport: Number(field('sport')), dst: field('dst')!, dport: Number(field('dport')) }, mark: Number(field('mark') ?? NaN) });
  }
  return out;
}

describe('the flow hash against the kernel (nft jhash, conntrack marks)', { skip: isRoot ? false : 'needs root (network namespaces, nft, conntrack)' }, () => {
  before(async () => {
    for (const ns of [client, lb]) await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['link', 'add', 'v0', 'netns', client, 'type', 'veth', 'peer', 'name', 'v0', 'netns', lb]);
    for (const [ns, ips] of [[client, clientIps], [lb, lbIps]] as const) {
      for (const ip of ips) await sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'v0']);
      await sh('ip', ['-n', ns, 'link', 'set', 'v0', 'up']);
      await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await nft(`table ip weft_fh {\n chain pre {\n  type filter hook prerouting priority mangle; policy accept;\n  meta l4proto { tcp, udp } ct state new ct mark set ${flowHashExpr(MAGLEV_SIZE)}\n }\n}\n`);
  });

  after(async () => {
    for (const ns of [client, lb]) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
    const { stdout } = await sh('ip', ['netns', 'list']);
    assert.ok(!stdout.includes(prefix), 'no namespace of the test is left');
  });

  it('conntrack marks each UDP and TCP flow with the slot flowSlot computes', async () => {
    const flows: Flow[] = [];
    let port = 20_000 + (randomBytes(2).readUInt16BE() % 10_000);
    for (const [i, src] of clientIps.entries())
      for (const [j, dst] of lbIps.entries())
        for (const protocol of ['udp', 'tcp'] as const) for (const dport of [53 + i, 8080 + j]) flows.push({ protocol, src, sport: port++, dst, dport });
    // the vectors test/core/maglev.test.ts holds, so that it checks the kernel's answers without root
    flows.push({ protocol: 'tcp', src: '10.77.0.10', sport: 34567, dst: '10.77.0.1', dport: 80 }, { protocol: 'udp', src: '10.77.0.254', sport: 40000, dst: '10.77.0.129', dport: 53 });
    // the LB side: TCP listeners on every destination port (UDP needs none: the first datagram makes the entry)
    const tcpPorts = [...new Set(flows.filter((f) => f.protocol === 'tcp').map((f) => f.dport))];
    const server = spawn('ip', ['netns', 'exec', lb, process.execPath, '--input-type=module', '-e',
      `import net from 'node:net'; let n = 0; for (const p of ${JSON.stringify(tcpPorts)}) net.createServer((s) => { s.on('error', () => {}); s.resume(); s.end(); }).listen(p, '0.0.0.0', () => { if (++n === ${tcpPorts.length}) console.log('ready'); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((ok, fail) => {
        server.stdout.on('data', (d) => String(d).includes('ready') && ok());
        server.on('close', (c) => fail(new Error(`server exited ${c}`)));
      });
      await sendUdp(flows.filter((f) => f.protocol === 'udp'));
      await nodeIn(
        client,
        `import net from 'node:net';
         for (const f of ${JSON.stringify(flows.filter((f) => f.protocol === 'tcp'))}) await new Promise((ok, fail) => { const s = net.connect({ host: f.dst, port: f.dport, localAddress: f.src, localPort: f.sport }); s.on('error', fail); s.on('connect', () => s.end()); s.on('close', ok); s.resume(); });`,
      );
      const { stdout } = await sh('ip', ['netns', 'exec', lb, 'conntrack', '-L'], { maxBuffer: 1 << 22 });
      const seen = new Map(parseConntrack(stdout).map((e) => [`${e.flow.protocol} ${e.flow.src}:${e.flow.sport} ${e.flow.dst}:${e.flow.dport}`, e.mark]));
      let compared = 0;
      for (const f of flows) {
        const mark = seen.get(`${f.protocol} ${f.src}:${f.sport} ${f.dst}:${f.dport}`);
        assert.notEqual(mark, undefined, `conntrack holds ${JSON.stringify(f)}`);
        assert.equal(flowSlot(f, MAGLEV_SIZE), mark, `slot of ${JSON.stringify(f)}`);
        compared++;
      }
      assert.equal(compared, flows.length);
      assert.ok(new Set(flows.map((f) => flowSlot(f, MAGLEV_SIZE))).size > flows.length - 3, 'the slots differ from flow to flow');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('a dnat map of a Maglev table sends each new flow to table[flowSlot] (as an LB node programs a listener)', async () => {
    const backends = [
      { ip: '10.77.1.1', port: 8080, weight: 1 },
      { ip: '10.77.1.2', port: 8081, weight: 2 },
      { ip: '10.77.1.3', port: 8082, weight: 1 },
      { ip: '10.77.1.4', port: 8083, weight: 0 },
    ];
    const table = maglevTable(backends.map((b) => ({ key: `${b.ip}:${b.port}`, weight: b.weight })));
    // the backends are addresses of the LB namespace itself: the datagrams are delivered, so conntrack confirms the entries
    for (const b of backends) await sh('ip', ['-n', lb, 'addr', 'add', `${b.ip}/32`, 'dev', 'lo']);
    const elements = Array.from(table, (b, slot) => `${slot} : ${backends[b]!.ip} . ${backends[b]!.port}`).join(', ');
    await nft(
      `table ip weft_lb {\n map l1 { typeof numgen inc mod ${MAGLEV_SIZE} : ip daddr . udp dport; elements = { ${elements} } }\n` +
        ` chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  ip daddr 10.77.0.100 udp dport 53 dnat ip to ${flowHashExpr(MAGLEV_SIZE)} map @l1\n }\n}\n`,
    );
    await sh('ip', ['-n', lb, 'addr', 'add', '10.77.0.100/24', 'dev', 'v0']); // the VIP, answering ARP
    const base = 30_500 + (randomBytes(2).readUInt16BE() % 10_000);
    const flows: Flow[] = clientIps.flatMap((src, i) => Array.from({ length: 10 }, (_, k) => ({ protocol: 'udp' as const, src, sport: base + i * 10 + k, dst: '10.77.0.100', dport: 53 })));
    await sendUdp(flows);
    const { stdout } = await sh('ip', ['netns', 'exec', lb, 'conntrack', '-L', '-p', 'udp', '--orig-dst', '10.77.0.100'], { maxBuffer: 1 << 22 });
    const replies = new Map(
      stdout
        .split('\n')
        .filter((l) => l.startsWith('udp'))
        .map((l) => {
          const [orig, reply] = [...l.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)];
          return [`${orig![1]}:${orig![3]}`, `${reply![1]}:${reply![3]}`] as const;
        }),
    );
    const used = new Set<string>();
    for (const f of flows) {
      const b = backends[table[flowSlot(f, MAGLEV_SIZE)]!]!;
      assert.equal(replies.get(`${f.src}:${f.sport}`), `${b.ip}:${b.port}`, `backend of ${f.src}:${f.sport}`);
      used.add(b.ip);
    }
    assert.ok(used.size >= 2 && !used.has('10.77.1.4'), `backends used: ${[...used]}`);
  });
});
