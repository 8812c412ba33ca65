/**
 * The underlay of a region in a box: a fabric namespace with one bridge (the
 * switch every host is plugged into) and one namespace per host holding its
 * uplink and underlay address. Nothing here touches the root namespace's
 * network; everything is named `<prefix>-…` so destroyRegion can find it all.
 *
 *   <prefix>-fab     br0 (MTU 9000), one veth per host, named after the host
 *   <prefix>-<host>  u0 (MTU 9000) = the host's underlay address, e.g. 100.64.0.11/16
 */
import { ipBatch, ipJson, listNetns, netnsAdd, netnsDel, CommandError } from './exec.js';
import { FABRIC_BRIDGE, UNDERLAY_MTU, UPLINK, checkName, checkPrefix, fabricNs, fabricPortName, hostNs } from './names.js';
import { parseAddrs, parseLinks } from './state.js';
import { parseCidr, parseIp } from '../../core/cidr.js';

/** Creates the fabric namespace and its bridge if missing; fixes MTU and state. Returns the commands it ran. */
export async function ensureFabric(prefix: string): Promise<string[]> {
  const ns = fabricNs(checkPrefix(prefix));
  const ran = await ensureNamespace(ns);
  const links = parseLinks(await ipJson(ns, ['-d', 'link', 'show']));
  const br = links.find((l) => l.name === FABRIC_BRIDGE);
  const lo = links.find((l) => l.name === 'lo');
  const lines: string[] = [];
  if (br && br.kind !== 'bridge') lines.push(`link del ${FABRIC_BRIDGE}`);
  if (!br || br.kind !== 'bridge') lines.push(`link add ${FABRIC_BRIDGE} mtu ${UNDERLAY_MTU} type bridge`);
  else if (br.mtu !== UNDERLAY_MTU) lines.push(`link set ${FABRIC_BRIDGE} mtu ${UNDERLAY_MTU}`);
  if (!br?.up || br.kind !== 'bridge') lines.push(`link set ${FABRIC_BRIDGE} up`);
  if (!lo?.up) lines.push('link set lo up');
  await ipBatch(ns, lines);
  return [...ran, ...lines.map((l) => `ip -n ${ns} ${l}`)];
}

/**
 * Plugs a host into the fabric: namespace `<prefix>-<hostName>`, uplink u0
 * carrying `underlayCidr` (e.g. 100.64.0.11/16) and nothing else. Idempotent.
 */
export async function ensureHost(prefix: string, hostName: string, underlayCidr: string): Promise<string[]> {
  checkName('host name', hostName);
  const m = /^([^/]+)\/(\d+)$/.exec(underlayCidr);
  if (!m || parseIp(m[1]!) === undefined || !parseCidr(underlayCidr, false)) throw new Error(`invalid underlay address ${JSON.stringify(underlayCidr)}: want a.b.c.d/n`);
  const ran = await ensureFabric(prefix);
  const fab = fabricNs(prefix);
  const host = hostNs(prefix, hostName);
  const port = fabricPortName(hostName);
  ran.push(...(await ensureNamespace(host)));

  const hostLinks = parseLinks(await ipJson(host, ['-d', 'link', 'show']));
  let fabLinks = parseLinks(await ipJson(fab, ['-d', 'link', 'show']));
  const uplink = hostLinks.find((l) => l.name === UPLINK);
  const fabLines: string[] = [];
  if (!uplink || uplink.kind !== 'veth') {
    const lines: string[] = [];
    if (uplink) await ipBatch(host, [`link del ${UPLINK}`]);
    // The fabric end of a pair whose host end is gone cannot be reused: start over.
    if (fabLinks.some((l) => l.name === port)) lines.push(`link del ${port}`);
    lines.push(`link add ${port} mtu ${UNDERLAY_MTU} type veth peer name ${UPLINK} netns ${host} mtu ${UNDERLAY_MTU}`);
    await ipBatch(fab, lines);
    ran.push(...lines.map((l) => `ip -n ${fab} ${l}`));
    fabLinks = parseLinks(await ipJson(fab, ['-d', 'link', 'show']));
  }
  const fport = fabLinks.find((l) => l.name === port);
  if (!fport) throw new Error(`${fab}: ${port} missing after plugging ${hostName}; is ${UPLINK} of ${host} paired elsewhere?`);
  if (fport.master !== FABRIC_BRIDGE) fabLines.push(`link set ${port} master ${FABRIC_BRIDGE}`);
  if (fport.mtu !== UNDERLAY_MTU) fabLines.push(`link set ${port} mtu ${UNDERLAY_MTU}`);
  if (!fport.up) fabLines.push(`link set ${port} up`);
  await ipBatch(fab, fabLines);

  const addrs = parseAddrs(await ipJson(host, ['addr', 'show', 'dev', UPLINK]), UPLINK);
  const now = parseLinks(await ipJson(host, ['link', 'show']));
  const u0 = now.find((l) => l.name === UPLINK)!;
  const lo = now.find((l) => l.name === 'lo');
  const hostLines: string[] = [];
  if (!lo?.up) hostLines.push('link set lo up');
  if (u0.mtu !== UNDERLAY_MTU) hostLines.push(`link set ${UPLINK} mtu ${UNDERLAY_MTU}`);
  for (const a of addrs) if (a !== underlayCidr) hostLines.push(`addr del ${a} dev ${UPLINK}`);
  if (!addrs.includes(underlayCidr)) hostLines.push(`addr add ${underlayCidr} dev ${UPLINK}`);
  if (!u0.up) hostLines.push(`link set ${UPLINK} up`);
  await ipBatch(host, hostLines);
  return [...ran, ...fabLines.map((l) => `ip -n ${fab} ${l}`), ...hostLines.map((l) => `ip -n ${host} ${l}`)];
}

/** Names of the region's namespaces (`<prefix>-…`), sorted. */
export async function listNamespaces(prefix: string): Promise<string[]> {
  const head = `${checkPrefix(prefix)}-`;
  return (await listNetns()).filter((n) => n.startsWith(head)).sort();
}

/**
 * Removes every namespace of the region — instances, routers, hosts, fabric —
 * and with them every device, address, route and rule in them. Returns the
 * namespaces removed.
 */
export async function destroyRegion(prefix: string): Promise<string[]> {
  const names = await listNamespaces(prefix);
  const fab = fabricNs(prefix);
  // Leaves first (instances and routers), the fabric last; deleting a namespace
  // also deletes the veth pairs crossing into it.
  const depth = (n: string) => (n === fab ? 2 : n.split('-').length <= 2 ? 1 : 0);
  const ordered = [...names].sort((a, b) => depth(a) - depth(b));
  const errors: string[] = [];
  for (const n of ordered) {
    await netnsDel(n).catch((e: unknown) => {
      if (!(e instanceof CommandError && /No such file/.test(e.stderr))) errors.push(e instanceof Error ? e.message : String(e));
    });
  }
  if (errors.length) throw new Error(`destroyRegion(${prefix}): ${errors.join('; ')}`);
  return ordered;
}

async function ensureNamespace(ns: string): Promise<string[]> {
  if ((await listNetns()).includes(ns)) return [];
  await netnsAdd(ns).catch((e: unknown) => {
    if (!(e instanceof CommandError && /File exists/.test(e.stderr))) throw e;
  });
  return [`ip netns add ${ns}`];
}
