/** What /proc says about a process: resident memory and CPU time (Linux only). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** VmRSS and VmHWM (peak RSS) in MB (10^6 bytes), from /proc/PID/status. */
export function memory(pid: number): { rssMB: number; peakMB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // The kernel's "kB" are KiB.
    const mb = (name: string) => (Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024) / 1e6;
    return { rssMB: mb('VmRSS'), peakMB: mb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used (fields 14 and 15 of /proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are positional.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return 0;
  }
}

/**
 * PostgreSQL backends serving one database: their command line reads
 * `postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE`.
 */
export function postgresBackends(database: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres:') && cmd.replace(/\0/g, ' ').split(/\s+/).includes(database)) pids.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** CPU seconds the whole machine has spent busy (all cores; not idle, not waiting for I/O), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const total = cpu.slice(0, 8).reduce((s, v) => s + v, 0);
    return (total - cpu[3]! - cpu[4]!) / clockTicks();
  } catch {
    return 0;
  }
}

/**
 * Waits until the machine is quiet (other processes keep fewer than
 * `maxBusyCores` busy over half a second), at most `maxWaitMs`. Benches on a
 * shared machine otherwise measure their neighbours. Returns the busy cores
 * of the last sample.
 */
export async function waitForQuiet(maxBusyCores: number, maxWaitMs: number): Promise<{ busyCores: number; waitedMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const a = machineBusySeconds();
    await new Promise((ok) => setTimeout(ok, 500));
    const busyCores = (machineBusySeconds() - a) / 0.5;
    const waitedMs = Date.now() - t0;
    if (busyCores <= maxBusyCores || waitedMs >= maxWaitMs) return { busyCores, waitedMs };
  }
}

/** The processes that used the most CPU over `ms` (cores each), to name what a busy machine is busy with. */
export async function topProcesses(ms = 1000, n = 5): Promise<{ pid: number; cores: number; command: string }[]> {
  const read = () => {
    const m = new Map<number, number>();
    for (const e of readdirSync('/proc')) if (/^\d+$/.test(e)) m.set(Number(e), cpuSeconds(Number(e)));
    return m;
  };
  const a = read();
  await new Promise((ok) => setTimeout(ok, ms));
  const b = read();
  return [...b]
    .map(([pid, t]) => ({ pid, cores: (t - (a.get(pid) ?? t)) / (ms / 1000) }))
    .filter((p) => p.pid !== process.pid && p.cores > 0.05)
    .sort((x, y) => y.cores - x.cores)
    .slice(0, n)
    .map((p) => {
      let command = '';
      try {
        command = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim().slice(0, 160);
      } catch {
        // exited meanwhile
      }
      return { pid: p.pid, cores: Math.round(p.cores * 100) / 100, command };
    });
}
