/** The processes a region in a box starts (agents, BIRD), by pid. */

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
