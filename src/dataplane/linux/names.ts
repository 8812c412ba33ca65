/**
 * How the Linux driver names what it creates. Every namespace of a region
 * starts with the region's prefix, so a region can be listed and removed by
 * name alone (see fabric.ts). Pure.
 */

/** UDP port of every VXLAN tunnel (IANA). */
export const VXLAN_PORT = 4789;
/** MTU of the underlay (fabric bridge and host uplinks): room for 1500-byte frames plus VXLAN. */
export const UNDERLAY_MTU = 9000;
/** MTU of instance ports and of the tunnel device. */
export const INSTANCE_MTU = 1500;
/** Name of a host's uplink to the fabric, inside the host namespace. */
export const UPLINK = 'u0';
/** Name of the fabric's bridge. */
export const FABRIC_BRIDGE = 'br0';

const PREFIX = /^[a-z][a-z0-9]{1,11}$/;
/** Host names and resource IDs end up in namespace and interface names: keep them tame. */
const NAME = /^[a-z][a-z0-9-]*$/;

export function checkPrefix(prefix: string): string {
  // A short, non-empty prefix is what keeps destroyRegion from matching anything else.
  if (!PREFIX.test(prefix)) throw new Error(`invalid region prefix ${JSON.stringify(prefix)}: 2-12 lowercase letters/digits, starting with a letter`);
  return prefix;
}

export function checkName(what: string, name: string): string {
  if (!NAME.test(name) || name.length > 64) throw new Error(`invalid ${what} ${JSON.stringify(name)}: lowercase letters, digits and '-', starting with a letter`);
  return name;
}

export function checkIfname(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..') throw new Error(`invalid interface name ${JSON.stringify(name)}: 1-15 characters [A-Za-z0-9_.-]`);
  return name;
}

export const fabricNs = (prefix: string) => `${prefix}-fab`;
export const hostNs = (prefix: string, hostName: string) => `${prefix}-${hostName}`;
export const routerNs = (prefix: string, hostName: string, vpcId: string) => `${prefix}-${hostName}-${vpcId}`;
export const instanceNs = (prefix: string, instanceId: string) => `${prefix}-${instanceId}`;
export const vxlanName = (vni: number) => `vx${vni}`;

/** The VPC whose router namespace on `hostName` this is, if it is one. */
export function routerVpcOf(prefix: string, hostName: string, ns: string): string | undefined {
  const head = `${prefix}-${hostName}-`;
  if (!ns.startsWith(head)) return undefined;
  const rest = ns.slice(head.length);
  return /^vpc-[a-z0-9]+$/.test(rest) ? rest : undefined;
}

/** The fabric-side end of a host's uplink: the host's name when it fits an interface name. */
export function fabricPortName(hostName: string): string {
  if (hostName.length <= 15) return hostName;
  let h = 0x811c9dc5; // FNV-1a: short, stable, no crypto needed
  for (const c of hostName) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return `h${h.toString(16).padStart(8, '0')}`;
}
