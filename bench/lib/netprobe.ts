/**
 * A small TCP prober the data-plane bench runs inside a namespace
 * (`ip netns exec NS node netprobe.js`): one JSON command per stdin line, one
 * JSON answer per stdout line. Times are `process.hrtime.bigint()`
 * (CLOCK_MONOTONIC), which every process on the machine shares, so the bench
 * can subtract its own timestamps from the prober's.
 *
 *   {"op":"serve","ports":[…],"host":"0.0.0.0"}   accept and close at once on each port
 *   {"op":"open","host":…,"port":…,"everyMs":2,"timeoutMs":…}
 *        a new connection attempt every everyMs until one connects; answers the
 *        time it connected (each attempt is a new flow, so it meets the rules in
 *        force when its SYN passes)
 *   {"op":"closed","host":…,"port":…,"everyMs":2,"failAfterMs":300,"timeoutMs":…}
 *        attempts likewise until one gets no answer within failAfterMs; answers
 *        when the first failing attempt was sent
 *   {"op":"connects","host":…,"port":…,"n":…}     n sequential connects; each one's duration in µs
 */
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const now = () => process.hrtime.bigint();
const say = (o: unknown) => process.stdout.write(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');

interface Cmd {
  op: string;
  host?: string;
  port?: number;
  ports?: number[];
  everyMs?: number;
  failAfterMs?: number;
  timeoutMs?: number;
  n?: number;
}

/** One attempt: resolves true when connected, false on error or after `giveUpMs`. */
function attempt(host: string, port: number, giveUpMs: number, live: Set<Socket>): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host, port });
    live.add(s);
    const done = (v: boolean) => {
      clearTimeout(t);
      live.delete(s);
      s.destroy();
      ok(v);
    };
    const t = setTimeout(() => done(false), giveUpMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Fires a connection attempt every `everyMs` until one decides (`decide`
 * answers true for it) or `timeoutMs` passes; answers when that attempt was sent.
 */
function probeUntil(c: Cmd, giveUpMs: number, decide: (connected: boolean) => boolean, at: 'sent' | 'answered') {
  const live = new Set<Socket>();
  const end = Date.now() + (c.timeoutMs ?? 10_000);
  let attempts = 0;
  return new Promise<void>((finish) => {
    let settled = false;
    const stop = (answer: unknown) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      for (const s of live) s.destroy();
      say(answer);
      finish();
    };
    const fire = () => {
      if (Date.now() > end) return stop({ ok: false, attempts, error: 'timed out' });
      attempts++;
      const sent = now();
      void attempt(c.host!, c.port!, giveUpMs, live).then((connected) => {
        if (decide(connected)) stop({ ok: true, at: at === 'sent' ? sent : now(), attempts });
      });
    };
    const timer = setInterval(fire, c.everyMs ?? 2);
    fire();
  });
}

// A dropped SYN is retried by the kernel after 1 s: give up before, a newer attempt answers sooner
// (and at most ~450 sockets are open at once).
const open = (c: Cmd) => probeUntil(c, 900, (connected) => connected, 'answered');

// Attempts are sent in order and time out after the same delay, so the first to fail is the earliest sent.
const closed = (c: Cmd) => probeUntil(c, c.failAfterMs ?? 300, (connected) => !connected, 'sent');

async function connects(c: Cmd) {
  const us: number[] = [];
  const live = new Set<Socket>();
  let failures = 0;
  for (let i = 0; i < (c.n ?? 100); i++) {
    const t0 = now();
    if (await attempt(c.host!, c.port!, 2000, live)) us.push(Number(now() - t0) / 1000);
    else failures++;
  }
  say({ ok: failures === 0, us, failures });
}

function serve(c: Cmd) {
  let pending = c.ports!.length;
  for (const port of c.ports!) {
    const server = createServer((s) => s.destroy());
    server.on('error', (e) => say({ ok: false, error: `${port}: ${e.message}` }));
    server.listen(port, c.host ?? '0.0.0.0', () => {
      if (--pending === 0) say({ ok: true });
    });
  }
}

const rl = createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let c: Cmd;
    try {
      c = JSON.parse(line) as Cmd;
    } catch {
      say({ ok: false, error: 'not JSON' });
      return;
    }
    if (c.op === 'serve') serve(c);
    else if (c.op === 'open') await open(c);
    else if (c.op === 'closed') await closed(c);
    else if (c.op === 'connects') await connects(c);
    else say({ ok: false, error: `unknown op ${c.op}` });
  });
});
// The bench closing our stdin (or dying) ends us; servers would otherwise keep the process alive.
rl.on('close', () => process.exit(0));
