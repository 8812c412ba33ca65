/**
 * The underlay of a region in a box: a fabric namespace with one bridge (the
 * switch every host is plugged into) and one namespace per host holding its
 * uplink and underlay address. Nothing here touches the root namespace's
 * network; everything is named `<prefix>-…` so destroyRegion can find it all.
 *
 *   <prefix>-fab     br0 (MTU 9000), one veth per host, named after the host
 *   <prefix>-<host>  u0 (MTU 9000) = the host's underlay address, e.g. 100.64.0.11/16
 *
 * Two settings make the box behave like separate machines on a switch rather
 * than one kernel's chain of veths (docs/dataplane.md, "Hosts and CPUs"):
 * - the fabric is a plain switch: bridged frames do not visit netfilter
 *   (bridge-nf-call-* = 0), as no real switch runs the hosts' iptables;
 * - a host's receive work runs on its own CPU: RPS on u0 steers what arrives
 *   from the fabric to the host's CPU, as a NIC's interrupt would on its own
 *   machine. Without it, one flow's whole path — sender, both hosts' routers,
 *   tunnel ends, receiver — runs in softirq on the sending CPU.
 */
import { availableParallelism } from 'node:os';
import { ipBatch, ipJson, listNetns, netnsAdd, netnsDel, run, sysctlRead, sysctlWrite, CommandError } from './exec.js';
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
  // Keys absent when the kernel has no br_netfilter: then there is nothing to turn off.
  const nf = await sysctlRead(ns, BRIDGE_NF);
  const off = BRIDGE_NF.filter((k) => nf[k] !== undefined && nf[k] !== '0').map((k) => `${k}=0`);
  await sysctlWrite(ns, off);
  return [...ran, ...lines.map((l) => `ip -n ${ns} ${l}`), ...off.map((s) => `ip netns exec ${ns} sysctl -w ${s}`)];
}

const BRIDGE_NF = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables', 'net.bridge.bridge-nf-call-arptables'];

/** The CPU that does host number `index`'s receive work (0-based): round-robin over the machine's CPUs. */
export const hostCpu = (index: number, cpuCount = availableParallelism()) => index % Math.max(1, cpuCount);

/** The RPS mask of one CPU as sysfs writes it: hex, 32 CPUs per comma-separated group, most significant first. */
export function cpuMask(cpu: number): string {
  return [(2 ** (cpu % 32)).toString(16), ...Array<string>(Math.floor(cpu / 32)).fill('00000000')].join(',');
}

/**
 * Sets u0's receive steering to one CPU when it differs; returns the command
 * run, if any. Best effort: where sysfs is read-only or the CPU is isolated the
 * kernel refuses, and the host then works as before, its receive work done by
 * the sending CPU — slower in a box, never wrong.
 */
async function steerUplink(host: string, cpu: number): Promise<string[]> {
  const file = `/sys/class/net/${UPLINK}/queues/rx-0/rps_cpus`;
  const want = cpuMask(cpu);
  const value = (mask: string) => BigInt(`0x${mask.trim().replace(/,/g, '') || '0'}`);
  try {
    // sysfs shows the namespace of whoever mounts it: `ip netns exec` mounts the host's.
    const { stdout } = await run(['ip', 'netns', 'exec', host, 'cat', file]);
    if (value(stdout) === value(want)) return [];
    await run(['ip', 'netns', 'exec', host, 'sh', '-c', `echo ${want} > ${file}`]);
  } catch (e) {
    console.error(`${host}: receive steering to CPU ${cpu} refused (${e instanceof Error ? e.message.trim() : String(e)}); the host still works, its receive work done by the sending CPU`);
    return [];
  }
  return [`ip netns exec ${host} sh -c 'echo ${want} > ${file}'`];
}

/**
 * Plugs a host into the fabric: namespace `<prefix>-<hostName>`, uplink u0
 * carrying `underlayCidr` (e.g. 100.64.0.11/16) and nothing else, its receive
 * work steered to `cpu`. Idempotent.
 */
export async function ensureHost(prefix: string, hostName: string, underlayCidr: string, cpu = 0): Promise<string[]> {
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
  const steered = await steerUplink(host, cpu);
  return [...ran, ...fabLines.map((l) => `ip -n ${fab} ${l}`), ...hostLines.map((l) => `ip -n ${host} ${l}`), ...steered];
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

/** Creates namespace `ns` unless it exists; returns the command run, if any. */
export async function ensureNamespace(ns: string): Promise<string[]> {
  if ((await listNetns()).includes(ns)) return [];
  await netnsAdd(ns).catch((e: unknown) => {
    if (!(e instanceof CommandError && /File exists/.test(e.stderr))) throw e;
  });
  return [`ip netns add ${ns}`];
}
