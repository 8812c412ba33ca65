/**
 * Finding an account's resources by ID. A foreign ID answers exactly as a
 * missing one: accounts never learn of each other's resources.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../store/schema.js';
import { ApiError } from '../errors.js';
import { idOf } from '../params.js';

type Reader = Kysely<DB>;

export const ID = {
  vpc: idOf('vpc'),
  subnet: idOf('subnet'),
  sg: idOf('sg'),
  instance: idOf('ins'),
  routeTable: idOf('rtb'),
  routeItem: idOf('rti'),
};

export function malformed(param: string, id: string, example: string): never {
  throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` in \`${param}\` is not a valid ID; expected the form ${example}.`);
}

export async function findVpc(db: Reader, account: string, id: string, param = 'VpcId') {
  if (!ID.vpc.test(id)) malformed(param, id, 'vpc-xxxxxxxx');
  const row = await db.selectFrom('vpcs').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The VPC \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

export async function findSubnet(db: Reader, account: string, id: string, param = 'SubnetId') {
  if (!ID.subnet.test(id)) malformed(param, id, 'subnet-xxxxxxxx');
  const row = await db.selectFrom('subnets').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The subnet \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

export async function findSecurityGroup(db: Reader, account: string, id: string, param = 'SecurityGroupId') {
  if (!ID.sg.test(id)) malformed(param, id, 'sg-xxxxxxxx');
  const row = await db.selectFrom('security_groups').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The security group \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

export async function findRouteTable(db: Reader, account: string, id: string, param = 'RouteTableId') {
  if (!ID.routeTable.test(id)) malformed(param, id, 'rtb-xxxxxxxx');
  const row = await db.selectFrom('route_tables').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The route table \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

/** All of `ids` owned by the account, or ResourceNotFound naming the ones that are not. */
export async function findAll<T extends 'vpcs' | 'subnets' | 'security_groups' | 'instances'>(
  db: Reader,
  table: T,
  account: string,
  ids: readonly string[],
  what: string,
) {
  if (!ids.length) return [];
  const rows = await db
    .selectFrom(table as 'vpcs')
    .select('id')
    .where('account', '=', account)
    .where('id', 'in', [...ids])
    .execute();
  const found = new Set(rows.map((r) => r.id));
  const missing = [...new Set(ids)].filter((id) => !found.has(id));
  if (missing.length) throw new ApiError('ResourceNotFound', `The ${what} ${missing.map((m) => `\`${m}\``).join(', ')} do(es) not exist.`);
  return [...found];
}
