/**
 * The programs the Linux driver runs. Checked before a region or an agent
 * starts, so a machine without nftables says so at once instead of every
 * apply failing in an agent's log.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Program → the Debian/Ubuntu package that provides it. */
const TOOLS: Record<string, string> = { ip: 'iproute2', bridge: 'iproute2', nft: 'nftables', sysctl: 'procps', nsenter: 'util-linux' };

/** What the region in a box's edge runs besides (region/bird.ts). */
export const EDGE_TOOLS: Record<string, string> = { bird: 'bird2', birdc: 'bird2', conntrackd: 'conntrackd', conntrack: 'conntrack' };

export function missingTools(path = process.env.PATH ?? '', tools: Record<string, string> = TOOLS): string[] {
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
  return Object.keys(tools).filter((t) => !found(t));
}

/** Throws, naming the packages to install, when a program the driver runs is not on PATH. */
export function checkTools(path?: string, o: { gateways?: boolean } = {}): void {
  const tools = o.gateways ? { ...TOOLS, ...EDGE_TOOLS } : TOOLS;
  const missing = missingTools(path, tools);
  if (!missing.length) return;
  const packages = [...new Set(missing.map((t) => tools[t]!))];
  const edge = missing.some((t) => t in EDGE_TOOLS) ? ' (BIRD announces the gateways; --gateways 0 runs without an internet)' : '';
  throw new Error(`the linux data plane runs ${missing.join(', ')}, not found on PATH; install them (Debian/Ubuntu: apt-get install -y ${packages.join(' ')})${edge} or use --dataplane sim`);
}
