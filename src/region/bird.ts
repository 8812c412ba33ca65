/**
 * Route announcement in the region in a box, by BIRD 2 (Debian's bird2), as
 * a production gateway cluster does it: every gateway announces what it
 * serves by eBGP — the public pools to the internet router, the cluster's
 * tunnel address to the fabric router — and the routers install one ECMP
 * route over every gateway that announces. BFD (100 ms × 3) takes a failed
 * gateway out in about 0.3 s; short BGP timers bring it back in about 2 s.
 * Nothing is hand-written that a router already does (docs/public-network.md).
 *
 * The configurations are pure (`routerConfig`, `gatewayConfig`); `startBird`
 * runs one daemon per namespace (processes.ts `stopDaemons` stops them), each with its own control
 * socket and pid file in DATA_DIR/bird.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../dataplane/linux/exec.js';
import { alive } from './processes.js';

/** Timers both ends share: BFD detects a dead peer in 3 × 100 ms; a session comes back within a few seconds. */
const TIMERS = `  hold time 3;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
  bfd on;`;

const bfd = (ifname: string) => `protocol bfd {
  interface "${ifname}" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}`;

/**
 * A router (fabric or internet): accepts eBGP sessions from any gateway in
 * `peers` and installs what they announce into the kernel, equal routes
 * merged into one multipath (ECMP) route.
 */
export function routerConfig(o: { routerId: string; asn: number; peers: string; peerAs: number; ifname: string; log: string }): string {
  return `# Written by weft (region/bird.ts); rewritten on every weft up.
log "${o.log}" { info, remote, warning, error, auth, fatal, bug };
router id ${o.routerId};
protocol device { scan time 10; }
protocol kernel {
  ipv4 { import none; export all; };
  merge paths on;
}
${bfd(o.ifname)}
protocol bgp gateways {
  local ${o.routerId} as ${o.asn};
  neighbor range ${o.peers} as ${o.peerAs};
  dynamic name "gw";
${TIMERS}
  ipv4 { import all; export none; };
}
`;
}

export interface Session {
  name: string;
  local: string;
  neighbor: string;
  ifname: string;
  /** Prefixes announced on this session. */
  announce: readonly string[];
  /** Extra AS hops per announced prefix: this gateway's rank for a prefix another gateway carries first. */
  prepend?: Readonly<Record<string, number>>;
  /**
   * Also announce the routes of this kernel table (the agent keeps the NAT
   * gateways' EIPs there: dataplane/linux/nat-gateway.ts ANNOUNCE_TABLE), each
   * with as many extra AS hops as its metric, up to `maxRank`.
   */
  kernelTable?: number;
}

const ownAs = (asn: number, hops: number) => Array.from({ length: hops }, () => `bgp_path.prepend(${asn});`).join(' ');

/**
 * A gateway: one eBGP session per router, each announcing its prefixes; it
 * learns nothing. Where gateways carry something in turn (a VPC's NAT
 * traffic), each announces it with its rank in extra AS hops: the routers
 * prefer the shortest path, so the first live gateway in rank order gets it.
 */
export function gatewayConfig(o: { routerId: string; asn: number; peerAs: number; sessions: readonly Session[]; log: string; maxRank?: number }): string {
  const parts = o.sessions.map((s) => {
    const learned = s.kernelTable !== undefined ? `${s.name}_learned` : undefined;
    const kernel = learned
      ? `protocol kernel ${learned} {
  ipv4 { import all; export none; };
  kernel table ${s.kernelTable};
  learn;
  scan time 2;
}
`
      : '';
    const ranks = Array.from({ length: o.maxRank ?? 0 }, (_, i) => `      if krt_metric >= ${i + 1} then bgp_path.prepend(${o.asn});`).join('\n');
    const prepends = Object.entries(s.prepend ?? {})
      .filter(([, n]) => n > 0)
      .map(([net, n]) => `    if net = ${net} then { ${ownAs(o.asn, n)} }`)
      .join('\n');
    const filter = `filter {
${learned ? `    if proto = "${learned}" then {\n${ranks}\n      accept;\n    }\n` : ''}${prepends ? `${prepends}\n` : ''}    if proto = "${s.name}_routes" then accept;
    reject;
  }`;
    return `protocol static ${s.name}_routes {
  ipv4;
${s.announce.map((p) => `  route ${p} unreachable;`).join('\n')}
}
${kernel}protocol bgp ${s.name} {
  local ${s.local} as ${o.asn};
  neighbor ${s.neighbor} as ${o.peerAs};
${TIMERS}
  ipv4 { import none; export ${filter}; };
}`;
  });
  const ifnames = [...new Set(o.sessions.map((s) => s.ifname))];
  // The kernel protocols only learn (export none): the gateway routes its addresses itself.
  return `# Written by weft (region/bird.ts); rewritten on every weft up.
log "${o.log}" { info, remote, warning, error, auth, fatal, bug };
router id ${o.routerId};
protocol device { scan time 10; }
protocol bfd {
${ifnames.map((i) => `  interface "${i}" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };`).join('\n')}
}
${parts.join('\n')}
`;
}

const files = (dir: string, name: string) => ({ conf: join(dir, `${name}.conf`), ctl: join(dir, `${name}.ctl`), pid: join(dir, `${name}.pid`) });

const runningPid = (pidFile: string): number | undefined => {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return pid > 0 && alive(pid) ? pid : undefined;
};

/** Runs BIRD in namespace `ns` with `config`, or makes a running one reload it. Returns once it answers. */
export async function startBird(dir: string, name: string, ns: string, config: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = files(dir, name);
  writeFileSync(f.conf, config);
  if (runningPid(f.pid)) {
    await run(['birdc', '-s', f.ctl, 'configure']);
    return;
  }
  rmSync(f.ctl, { force: true });
  // BIRD forks into the background once its configuration parses; its pid file names the daemon.
  await run(['ip', 'netns', 'exec', ns, 'bird', '-c', f.conf, '-s', f.ctl, '-P', f.pid]);
}
