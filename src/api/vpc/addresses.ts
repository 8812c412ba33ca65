/**
 * Private addresses held in a subnet: the store side of IPAM (core/ipam.ts is
 * the pure side). Every address in use — instance primary IPs today, ENIs,
 * load balancers and NAT later — is a row in private_ips, so a subnet is in use
 * exactly while it holds rows, and requested addresses are checked against
 * one table.
 */
import { parseCidr } from '../../core/cidr.js';
import { allocate, checkRequested } from '../../core/ipam.js';
import type { SubnetsTable } from '../../store/schema.js';
import type { Write } from '../../store/store.js';
import { ApiError } from '../errors.js';

export interface Holder {
  kind: string; // 'instance', …
  id: string;
}

/**
 * Takes `count` addresses in the subnet for `holder`: the `requested` ones
 * first (each must be inside the subnet, unreserved and free), then the
 * lowest free ones. Throws the error a user should see when it cannot.
 */
export async function takeAddresses(
  w: Write,
  subnet: SubnetsTable,
  holders: readonly Holder[],
  requested: readonly (string | undefined)[] = [],
  param = 'PrivateIpAddresses',
): Promise<string[]> {
  const cidr = parseCidr(subnet.cidr)!;
  const rows = await w.tx.selectFrom('private_ips').select('ip').where('subnet_id', '=', subnet.id).execute();
  const taken = new Set(rows.map((r) => r.ip));
  const out: (string | undefined)[] = [];
  requested.forEach((want, i) => {
    if (want === undefined) return out.push(undefined);
    const c = checkRequested(cidr, want, taken);
    if (!c.ok) {
      const where = `\`${want}\` (\`${param}.${i}\`)`;
      switch (c.why) {
        case 'malformed':
          throw new ApiError('InvalidParameterValue.Malformed', `${where} is not an IPv4 address.`);
        case 'outside':
          throw new ApiError('InvalidParameterValue.Range', `${where} is outside subnet ${subnet.id} (${subnet.cidr}).`);
        case 'reserved':
          throw new ApiError('InvalidParameterValue.Reserved', `${where} is reserved in subnet ${subnet.id} (network, gateway and last address of ${subnet.cidr}).`);
        case 'taken':
          throw new ApiError('InvalidParameterValue.Duplicate', `${where} is already in use in subnet ${subnet.id}.`);
      }
    }
    taken.add(c.ip);
    return out.push(c.ip);
  });
  while (out.length < holders.length) out.push(undefined);
  const free = allocate(cidr, taken, out.filter((x) => x === undefined).length);
  if (free.length < out.filter((x) => x === undefined).length)
    throw new ApiError(
      'ResourceInsufficient',
      `Subnet ${subnet.id} (${subnet.cidr}) has too few free addresses for ${holders.length} more; use a larger subnet or free some.`,
    );
  const ips = out.map((x) => x ?? free.shift()!);
  await w.tx
    .insertInto('private_ips')
    .values(
      ips.map((ip, i) => ({
        subnet_id: subnet.id,
        ip,
        vpc_id: subnet.vpc_id,
        account: subnet.account,
        owner_kind: holders[i]!.kind,
        owner_id: holders[i]!.id,
        is_primary: 1,
        created_at: w.now,
      })),
    )
    .execute();
  return ips;
}

/** Frees every address a holder has. */
export async function releaseAddresses(w: Write, holderId: string): Promise<void> {
  await w.tx.deleteFrom('private_ips').where('owner_id', '=', holderId).execute();
}
