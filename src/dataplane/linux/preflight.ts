/**
 * The programs the Linux driver runs. Checked before a region or an agent
 * starts, so a machine without nftables says so at once instead of every
 * apply failing in an agent's log.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Program → the Debian/Ubuntu package that provides it. */
const TOOLS: Record<string, string> = { ip: 'iproute2', bridge: 'iproute2', nft: 'nftables', sysctl: 'procps', nsenter: 'util-linux' };

export function missingTools(path = process.env.PATH ?? ''): string[] {
  const dirs = path.split(delimiter).filter(Boolean);
  const found = (tool: string) =>
    dirs.some((d) => {
      try {
        accessSync(join(d, tool), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return Object.keys(TOOLS).filter((t) => !found(t));
}

/** Throws, naming the packages to install, when a program the driver runs is not on PATH. */
export function checkTools(path?: string): void {
  const missing = missingTools(path);
  if (!missing.length) return;
  const packages = [...new Set(missing.map((t) => TOOLS[t]!))];
  throw new Error(`the linux data plane runs ${missing.join(', ')}, not found on PATH; install them (Debian/Ubuntu: apt-get install -y ${packages.join(' ')}) or use --dataplane sim`);
}
