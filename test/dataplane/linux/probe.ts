/**
 * Network probes the end-to-end test runs inside instance namespaces:
 *   ip netns exec NS node probe.js serve TCP_PORTS UDP_PORTS   echo servers; one JSON line per flow/datagram
 *   ip netns exec NS node probe.js udp HOST PORT [FROM]        request/echo; exit 0 on an answer within 1 s
 *   ip netns exec NS node probe.js send-udp HOST PORT [FROM]   one datagram, no answer expected
 *   ip netns exec NS node probe.js hold HOST PORT              a TCP connection driven by stdin lines
 * (ports: comma-separated, or '-' for none; FROM: source address to bind)
 */
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

const [mode, ...args] = process.argv.slice(2);
const ports = (s: string | undefined) => (s && s !== '-' ? s.split(',').map(Number) : []);
const log = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

async function serve(tcp: number[], udp: number[]) {
  const listening: Promise<void>[] = [];
  for (const port of tcp) {
    const server = net.createServer((sock) => {
      log({ proto: 'tcp', port, from: sock.remoteAddress });
      sock.on('error', () => {});
      sock.pipe(sock);
    });
    listening.push(new Promise((ok) => server.listen(port, '0.0.0.0', ok)));
  }
  for (const port of udp) {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      log({ proto: 'udp', port, from: rinfo.address, data: msg.toString() });
      sock.send(msg, rinfo.port, rinfo.address);
    });
    listening.push(new Promise((ok) => sock.bind(port, '0.0.0.0', ok)));
  }
  await Promise.all(listening);
  process.stdout.write('ready\n');
}

function udp(host: string, port: number, from: string | undefined, expectAnswer: boolean) {
  const sock = dgram.createSocket('udp4');
  const timer = setTimeout(() => process.exit(1), 1000);
  sock.on('message', () => {
    clearTimeout(timer);
    process.exit(0);
  });
  sock.on('error', () => process.exit(2));
  sock.bind(0, from, () =>
    sock.send(`probe from ${from ?? 'default'}`, port, host, (err) => {
      if (err) process.exit(2);
      if (!expectAnswer) process.exit(0);
    }),
  );
}

function hold(host: string, port: number) {
  const sock = net.connect({ host, port }, () => process.stdout.write('connected\n'));
  sock.on('data', (d) => process.stdout.write(d));
  sock.on('error', (e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
  sock.on('close', () => process.exit(0));
  readline.createInterface({ input: process.stdin }).on('line', (line) => sock.write(line + '\n'));
}

switch (mode) {
  case undefined:
    break; // `node --test` on this folder runs this file too: nothing to do
  case 'serve':
    await serve(ports(args[0]), ports(args[1]));
    break;
  case 'udp':
  case 'send-udp':
    udp(args[0]!, Number(args[1]), args[2], mode === 'udp');
    break;
  case 'hold':
    hold(args[0]!, Number(args[1]));
    break;
  default:
    process.stderr.write(`unknown probe ${mode}\n`);
    process.exit(2);
}
