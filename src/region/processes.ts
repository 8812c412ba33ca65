/** The processes a region in a box starts (agents, BIRD, conntrackd), by pid. */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, up to `graceMs` to exit, then SIGKILL. Resolves once it is gone or was not running. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < graceMs && alive(pid); waited += 100) await new Promise((ok) => setTimeout(ok, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Stops every daemon whose pid file (`<name>.pid`) is in `dir` — BIRD's and
 * conntrackd's directories — and removes its pid file and control socket.
 * Returns the names of those that were running.
 */
export async function stopDaemons(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const stopped: string[] = [];
  for (const file of readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
    const name = file.slice(0, -'.pid'.length);
    const pid = Number(readFileSync(join(dir, file), 'utf8').trim());
    if (pid > 0 && alive(pid)) {
      await stopProcess(pid, 5000);
      stopped.push(name);
    }
    rmSync(join(dir, file), { force: true });
    rmSync(join(dir, `${name}.ctl`), { force: true });
  }
  return stopped;
}
