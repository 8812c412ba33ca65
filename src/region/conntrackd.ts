/**
 * Session sync between gateway nodes, by conntrackd (Debian's conntrackd,
 * FTFW mode): every node sends the NAT sessions it creates and changes to
 * the others over the underlay (multicast on u0), and puts theirs straight
 * into its own conntrack table (`DisableExternalCache On`), so the node that
 * takes over a VPC's NAT traffic when another fails already holds its
 * sessions, translations included (docs/public-network.md; verified in
 * docs/research/public-network.md §3b). Only NAT sessions are tracked in a
 * gateway's namespace (the rest is notrack: dataplane/linux/nat-gateway.ts),
 * so only they are copied.
 *
 * `conntrackdConfig` is pure; `startConntrackd` runs one daemon per gateway
 * namespace with its own control socket and lock in DATA_DIR/conntrackd.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from './processes.js';

/** Multicast group and port of the sync channel (conntrackd's documented defaults). */
const GROUP = '225.0.0.50';
const PORT = 3780;

export function conntrackdConfig(o: { address: string; ifname: string; dir: string; name: string; log: string }): string {
  return `# Written by weft (region/conntrackd.ts); rewritten on every weft up.
Sync {
  Mode FTFW {
    DisableExternalCache On
  }
  Multicast {
    IPv4_address ${GROUP}
    Group ${PORT}
    IPv4_interface ${o.address}
    Interface ${o.ifname}
    SndSocketBuffer 1249280
    RcvSocketBuffer 1249280
    Checksum on
  }
}
General {
  LogFile ${o.log}
  LockFile ${join(o.dir, `${o.name}.lock`)}
  UNIX { Path ${join(o.dir, `${o.name}.ctl`)} }
  NetlinkBufferSize 2097152
  NetlinkBufferSizeMaxGrowth 8388608
  Filter From Userspace {
    Address Ignore { IPv4_address 127.0.0.1 }
  }
}
`;
}

/** Runs conntrackd in namespace `ns` (unless it runs already); its pid file lets `stopDaemons` stop it. */
export async function startConntrackd(dir: string, name: string, ns: string, config: string, logFile: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const conf = join(dir, `${name}.conf`);
  const pidFile = join(dir, `${name}.pid`);
  writeFileSync(conf, config);
  if (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')))) return;
  rmSync(join(dir, `${name}.lock`), { force: true });
  rmSync(join(dir, `${name}.ctl`), { force: true });
  const log = openSync(logFile, 'a');
  // In the foreground, detached: `ip netns exec` execs conntrackd, so the child's pid is the daemon's.
  const child = spawn('ip', ['netns', 'exec', ns, 'conntrackd', '-C', conf], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);
  // Ready once its control socket answers.
  for (let waited = 0; waited < 5000 && !existsSync(join(dir, `${name}.ctl`)); waited += 50) {
    if (child.exitCode !== null) throw new Error(`conntrackd in ${ns} exited (${child.exitCode}); see ${logFile}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
