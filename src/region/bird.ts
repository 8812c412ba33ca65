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
 * and `stopBirds` run one daemon per namespace, each with its own control
 * socket and pid file in DATA_DIR/bird.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../dataplane/linux/exec.js';
import { alive, stopProcess } from './processes.js';

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
}

/** A gateway: one eBGP session per router, each announcing its prefixes; it learns nothing. */
export function gatewayConfig(o: { routerId: string; asn: number; peerAs: number; sessions: readonly Session[]; log: string }): string {
  const parts = o.sessions.map(
    (s) => `protocol static ${s.name}_routes {
  ipv4;
${s.announce.map((p) => `  route ${p} unreachable;`).join('\n')}
}
protocol bgp ${s.name} {
  local ${s.local} as ${o.asn};
  neighbor ${s.neighbor} as ${o.peerAs};
${TIMERS}
  ipv4 { import none; export where proto = "${s.name}_routes"; };
}`,
  );
  const ifnames = [...new Set(o.sessions.map((s) => s.ifname))];
  // No kernel protocol: the static routes exist only to be announced (the gateway routes its addresses itself).
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

/** Stops every BIRD this data dir started; returns their names. */
export async function stopBirds(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const stopped: string[] = [];
  for (const file of readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
    const name = file.slice(0, -'.pid'.length);
    const f = files(dir, name);
    const pid = runningPid(f.pid);
    if (pid) {
      await stopProcess(pid, 5000);
      stopped.push(name);
    }
    rmSync(f.pid, { force: true });
    rmSync(f.ctl, { force: true });
  }
  return stopped;
}
