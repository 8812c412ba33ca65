/**
 * SNAT and DNAT rules of NAT gateways (vpc 2017-03-12):
 * Create/Describe/Modify/DeleteNatGatewaySourceIpTranslationNatRule(s) and
 * Create/Describe/Modify/DeleteNatGatewayDestinationIpPortTranslationNatRule(s).
 *
 * An SNAT rule (snat-…) names a subnet or a network interface of the
 * gateway's VPC and the gateway's EIPs its sources leave by. A DNAT rule
 * forwards a protocol, EIP and port of the gateway to a private address and
 * port of an instance in the VPC; it has no ID, so Modify and Delete name it
 * by its five fields. Each call is one transaction: a batch with one bad rule
 * changes nothing. Nothing translates yet (docs/public-network.md).
 */
import { sql } from 'kysely';
import { parseIp } from '../../core/cidr.js';
import { newId } from '../../core/ids.js';
import { deleteSnatRulesOf, dnatRulesOf, publicIpsOf, snatRulesOf, type DnatRow, type SnatRow } from '../../store/nat-rules.js';
import { eipsOfNats, type NatGatewayRow } from '../../store/nat-gateways.js';
import { instanceAt } from '../../store/route-tables.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { page } from '../common.js';
import { fail, missingParameter } from '../errors.js';
import { arr, filters, filterValues, idOf, int, obj, opt, paging, str } from '../params.js';
import { changeNat, checkIdsOrFilters, checkNatId, requireAvailable } from './nat-gateways.js';
import { toDnatRule, toSnatRule } from './nat-rule-models.js';

const SNAT_ID = idOf('snat');
/** Rules per gateway, each kind (Tencent's NAT gateway limits). */
const RULES_PER_NAT = 200;

/** The gateway's EIP addresses, for the rules to name. */
async function gatewayIps(w: Write, nat: NatGatewayRow): Promise<string[]> {
  return (await eipsOfNats(w.tx, [nat.id])).get(nat.id)!.map((e) => e.ip);
}

/**
 * Subnets or network interfaces being deleted leave the SNAT rules that name
 * them (Tencent deletes such a rule); their gateways' VPCs change.
 */
export async function dropSnatRulesOf(w: Write, resourceIds: readonly string[]): Promise<void> {
  for (const n of await deleteSnatRulesOf(w.tx, resourceIds)) {
    w.changed(n.account, 'nat_gateway', n.id, 'update');
    w.changed(n.account, 'vpc', n.vpc_id, 'update');
  }
}

// ---------------------------------------------------------------------------
// SNAT

const snatRule = obj({
  ResourceId: str(),
  ResourceType: str(),
  PrivateIpAddress: str(),
  PublicIpAddresses: arr(str()),
  Description: str({ max: 255 }),
  NatGatewaySnatId: opt(str()),
  NatGatewayId: opt(str()),
  VpcId: opt(str()),
  CreatedTime: opt(str()),
});

/** The EIPs a rule names: one or more, distinct, each held by the gateway (`code` otherwise). */
function checkRuleIps(ips: readonly string[], held: readonly string[], nat: NatGatewayRow, where: string, code: string): string[] {
  if (!ips.length) fail('InvalidParameterValue', `\`${where}.PublicIpAddresses\` is empty; give at least one EIP of ${nat.id}.`);
  ips.forEach((ip, j) => {
    if (parseIp(ip) === undefined) fail('InvalidParameterValue.Malformed', `\`${ip}\` (\`${where}.PublicIpAddresses.${j}\`) is not an IPv4 address.`);
    if (!held.includes(ip))
      fail(code, `\`${ip}\` (\`${where}.PublicIpAddresses.${j}\`) is not an EIP of the NAT gateway ${nat.id}; its EIPs are ${held.join(', ')} (AssociateNatGatewayAddress adds one).`);
  });
  return [...new Set(ips)];
}

/** What an SNAT rule translates: a subnet of the VPC (its CIDR) or an instance's interface (its address). */
async function snatSource(w: Write, ctx: Ctx, nat: NatGatewayRow, r: { ResourceType: string; ResourceId: string; PrivateIpAddress: string }, where: string) {
  const type = r.ResourceType.toUpperCase();
  if (type === 'SUBNET') {
    const s = await w.tx.selectFrom('subnets').select(['id', 'cidr']).where('id', '=', r.ResourceId).where('vpc_id', '=', nat.vpc_id).where('account', '=', ctx.account.uin).executeTakeFirst();
    if (!s) fail('ResourceNotFound', `\`${where}.ResourceId\` \`${r.ResourceId}\` is not a subnet of ${nat.vpc_id}, the VPC of ${nat.id}.`);
    if (r.PrivateIpAddress !== '' && r.PrivateIpAddress !== s!.cidr)
      fail('InvalidParameterValue', `\`${where}.PrivateIpAddress\` is ${r.PrivateIpAddress}; a SUBNET rule translates the whole subnet: give its CIDR ${s!.cidr}.`);
    return { type, resourceId: s!.id, privateIp: s!.cidr };
  }
  if (type === 'NETWORKINTERFACE') {
    const i = await w.tx
      .selectFrom('instances')
      .select(['eni_id', 'private_ip'])
      .where('eni_id', '=', r.ResourceId)
      .where('vpc_id', '=', nat.vpc_id)
      .where('account', '=', ctx.account.uin)
      .executeTakeFirst();
    if (!i) fail('ResourceNotFound', `\`${where}.ResourceId\` \`${r.ResourceId}\` is not a network interface of an instance in ${nat.vpc_id}, the VPC of ${nat.id}.`);
    if (r.PrivateIpAddress !== i!.private_ip)
      fail('UnsupportedOperation.NatGatewaySnatPipNeedVm', `\`${where}.PrivateIpAddress\` is ${r.PrivateIpAddress}; ${r.ResourceId} has the address ${i!.private_ip}.`);
    return { type, resourceId: i!.eni_id, privateIp: i!.private_ip };
  }
  return fail(
    'InvalidParameterValue',
    `\`${where}.ResourceType\` is \`${r.ResourceType}\`; give SUBNET or NETWORKINTERFACE (Weft's traditional NAT gateways have no USERDEFINED rules).`,
  );
}

export const createSnatRules = defineAction({
  service: 'vpc',
  name: 'CreateNatGatewaySourceIpTranslationNatRule',
  params: obj({ NatGatewayId: str(), SourceIpTranslationNatRules: arr(snatRule, { min: 1 }) }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      requireAvailable(nat, 'InvalidParameterValue');
      const held = await gatewayIps(w, nat);
      const existing = await snatRulesOf(w.tx, [nat.id]);
      if (existing.length + p.SourceIpTranslationNatRules.length > RULES_PER_NAT)
        fail('LimitExceeded', `A NAT gateway has at most ${RULES_PER_NAT} SNAT rules; ${nat.id} has ${existing.length} and ${p.SourceIpTranslationNatRules.length} more were given.`);
      const taken = new Map(existing.map((r) => [r.resource_id, r.id]));
      const rows: SnatRow[] = [];
      for (const [i, r] of p.SourceIpTranslationNatRules.entries()) {
        const where = `SourceIpTranslationNatRules.${i}`;
        const src = await snatSource(w, ctx, nat, r, where);
        const ips = checkRuleIps(r.PublicIpAddresses, held, nat, where, 'UnsupportedOperation.NatGatewayEipNotExists');
        const other = taken.get(src.resourceId);
        if (other)
          fail('InvalidParameterValue.NatSnatRuleExists', `${src.resourceId} (\`${where}.ResourceId\`) already has the SNAT rule ${other} on ${nat.id}; change that rule (ModifyNatGatewaySourceIpTranslationNatRule) instead.`);
        const id = newId('snat');
        taken.set(src.resourceId, id);
        rows.push({ id, nat_gateway_id: nat.id, resource_type: src.type, resource_id: src.resourceId, private_ip: src.privateIp, public_ips: JSON.stringify(ips), description: r.Description, created_at: w.now });
      }
      await w.tx.insertInto('nat_snat_rules').values(rows).execute();
    });
  },
});

export const describeSnatRules = defineAction({
  service: 'vpc',
  name: 'DescribeNatGatewaySourceIpTranslationNatRules',
  params: obj({
    NatGatewayId: str(),
    Filters: opt(filters(['resource-id', 'public-ip-address', 'description'], { codes: { unknownName: 'InvalidParameter.FilterInvalidKey' } })),
    ...paging,
  }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    const nat =
      (await ctx.db.selectFrom('nat_gateways').selectAll().where('id', '=', p.NatGatewayId).where('account', '=', ctx.account.uin).executeTakeFirst()) ??
      fail('ResourceNotFound', `The NAT gateway \`${p.NatGatewayId}\` (\`NatGatewayId\`) does not exist.`);
    let rules = await snatRulesOf(ctx.db, [nat.id]);
    const byResource = filterValues(p.Filters, 'resource-id');
    const byIp = filterValues(p.Filters, 'public-ip-address');
    const byDescription = filterValues(p.Filters, 'description');
    if (byResource) rules = rules.filter((r) => byResource.includes(r.resource_id));
    if (byIp) rules = rules.filter((r) => publicIpsOf(r).some((ip) => byIp.includes(ip)));
    if (byDescription) rules = rules.filter((r) => byDescription.includes(r.description));
    const { offset, limit } = page(p);
    return { SourceIpTranslationNatRuleSet: rules.slice(offset, offset + limit).map((r) => toSnatRule(r, nat.vpc_id)), TotalCount: rules.length };
  },
});

export const modifySnatRule = defineAction({
  service: 'vpc',
  name: 'ModifyNatGatewaySourceIpTranslationNatRule',
  params: obj({ NatGatewayId: str(), SourceIpTranslationNatRule: snatRule }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    const r = p.SourceIpTranslationNatRule;
    if (r.NatGatewaySnatId === undefined) throw missingParameter('SourceIpTranslationNatRule.NatGatewaySnatId');
    if (!SNAT_ID.test(r.NatGatewaySnatId))
      fail('InvalidParameterValue.Malformed', `\`${r.NatGatewaySnatId}\` (\`SourceIpTranslationNatRule.NatGatewaySnatId\`) is not an SNAT rule ID; expected the form snat-xxxxxxxx.`);
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      const rule = (await snatRulesOf(w.tx, [nat.id])).find((x) => x.id === r.NatGatewaySnatId);
      if (!rule) fail('InvalidParameterValue.NatGatewaySnatRuleNotExists', `The NAT gateway ${nat.id} has no SNAT rule \`${r.NatGatewaySnatId}\`.`);
      // Tencent changes only the EIPs and the description of a rule; what it translates stays.
      const ips = checkRuleIps(r.PublicIpAddresses, await gatewayIps(w, nat), nat, 'SourceIpTranslationNatRule', 'UnsupportedOperation.UnbindEIP');
      await w.tx.updateTable('nat_snat_rules').set({ public_ips: JSON.stringify(ips), description: r.Description }).where('id', '=', rule!.id).execute();
    });
  },
});

export const deleteSnatRules = defineAction({
  service: 'vpc',
  name: 'DeleteNatGatewaySourceIpTranslationNatRule',
  params: obj({ NatGatewayId: str(), NatGatewaySnatIds: arr(str(), { min: 1 }) }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    p.NatGatewaySnatIds.forEach((id, i) => {
      if (!SNAT_ID.test(id)) fail('InvalidParameterValue.Malformed', `\`${id}\` (\`NatGatewaySnatIds.${i}\`) is not an SNAT rule ID; expected the form snat-xxxxxxxx.`);
    });
    const ids = [...new Set(p.NatGatewaySnatIds)];
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      const have = new Set((await snatRulesOf(w.tx, [nat.id])).map((x) => x.id));
      const missing = ids.filter((id) => !have.has(id));
      if (missing.length) fail('InvalidParameterValue.NatGatewaySnatRuleNotExists', `The NAT gateway ${nat.id} has no SNAT rule(s) ${missing.join(', ')}; nothing was deleted.`);
      await w.tx.deleteFrom('nat_snat_rules').where('id', 'in', ids).execute();
    });
  },
});

// ---------------------------------------------------------------------------
// DNAT (port forwarding)

const dnatRule = obj({
  IpProtocol: str(),
  PublicIpAddress: str(),
  PublicPort: int(),
  PrivateIpAddress: str(),
  PrivatePort: int(),
  Description: opt(str({ max: 255 })),
});
type DnatInput = { IpProtocol: string; PublicIpAddress: string; PublicPort: number; PrivateIpAddress: string; PrivatePort: number; Description?: string };

/** The rule's fields normalised (protocol upper case), each checked; the codes are those of the calling action. */
async function checkDnat(w: Write, nat: NatGatewayRow, held: readonly string[], r: DnatInput, where: string, codes: { eip: string; pip: string }) {
  const protocol = r.IpProtocol.toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP') fail('InvalidParameterValue.Malformed', `\`${where}.IpProtocol\` is \`${r.IpProtocol}\`; give TCP or UDP.`);
  for (const [name, port] of [['PublicPort', r.PublicPort], ['PrivatePort', r.PrivatePort]] as const)
    if (port < 1 || port > 65535) fail('InvalidParameterValue.Malformed', `\`${where}.${name}\` is ${port}; give a port from 1 to 65535.`);
  if (parseIp(r.PublicIpAddress) === undefined) fail('InvalidParameterValue.Malformed', `\`${where}.PublicIpAddress\` \`${r.PublicIpAddress}\` is not an IPv4 address.`);
  if (!held.includes(r.PublicIpAddress))
    fail(codes.eip, `\`${where}.PublicIpAddress\` ${r.PublicIpAddress} is not an EIP of the NAT gateway ${nat.id}; its EIPs are ${held.join(', ')}.`);
  if (parseIp(r.PrivateIpAddress) === undefined || !(await instanceAt(w.tx, nat.vpc_id, r.PrivateIpAddress)))
    fail(codes.pip, `\`${where}.PrivateIpAddress\` ${r.PrivateIpAddress} is not the private address of an instance in ${nat.vpc_id}, the VPC of ${nat.id}.`);
  return { protocol, ...r, Description: r.Description ?? '' };
}

const dnatKey = (r: { protocol: string; public_ip: string; public_port: number }) => `${r.protocol} ${r.public_ip}:${r.public_port}`;
const sameDnat = (row: DnatRow, r: DnatInput) =>
  row.protocol === r.IpProtocol.toUpperCase() &&
  row.public_ip === r.PublicIpAddress &&
  row.public_port === r.PublicPort &&
  row.private_ip === r.PrivateIpAddress &&
  row.private_port === r.PrivatePort;

/** The gateway's rule with exactly these five fields, or IPV.NatGatewayDnatRuleNotExists. */
function findDnat(rows: readonly DnatRow[], r: DnatInput, nat: NatGatewayRow, where: string): DnatRow {
  return (
    rows.find((row) => sameDnat(row, r)) ??
    fail(
      'InvalidParameterValue.NatGatewayDnatRuleNotExists',
      `\`${where}\`: ${nat.id} has no rule forwarding ${r.IpProtocol} ${r.PublicIpAddress}:${r.PublicPort} to ${r.PrivateIpAddress}:${r.PrivatePort}; a rule is named by all five fields (DescribeNatGatewayDestinationIpPortTranslationNatRules).`,
    )
  );
}

const deleteDnat = (w: Write, row: DnatRow) =>
  w.tx
    .deleteFrom('nat_dnat_rules')
    .where('nat_gateway_id', '=', row.nat_gateway_id)
    .where('protocol', '=', row.protocol)
    .where('public_ip', '=', row.public_ip)
    .where('public_port', '=', row.public_port)
    .execute();

export const createDnatRules = defineAction({
  service: 'vpc',
  name: 'CreateNatGatewayDestinationIpPortTranslationNatRule',
  params: obj({ NatGatewayId: str(), DestinationIpPortTranslationNatRules: arr(dnatRule, { min: 1 }) }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      requireAvailable(nat, 'InvalidParameterValue');
      const held = await gatewayIps(w, nat);
      const existing = await dnatRulesOf(w.tx, [nat.id]);
      if (existing.length + p.DestinationIpPortTranslationNatRules.length > RULES_PER_NAT)
        fail('LimitExceeded.NatGatewayDnatLimitExceeded', `A NAT gateway has at most ${RULES_PER_NAT} port forwarding rules; ${nat.id} has ${existing.length} and ${p.DestinationIpPortTranslationNatRules.length} more were given.`);
      const taken = new Set(existing.map(dnatKey));
      const inBatch = new Set<string>();
      const rows: DnatRow[] = [];
      for (const [i, r] of p.DestinationIpPortTranslationNatRules.entries()) {
        const where = `DestinationIpPortTranslationNatRules.${i}`;
        const c = await checkDnat(w, nat, held, r, where, { eip: 'UnsupportedOperation.NatGatewayEipNotExists', pip: 'InvalidParameterValue.NatGatewayDnatRulePipNeedVm' });
        const row: DnatRow = { nat_gateway_id: nat.id, protocol: c.protocol, public_ip: c.PublicIpAddress, public_port: c.PublicPort, private_ip: c.PrivateIpAddress, private_port: c.PrivatePort, description: c.Description, created_at: w.now };
        const key = dnatKey(row);
        if (taken.has(key))
          fail('InvalidParameterValue.NatGatewayDnatRuleExisted', `\`${where}\`: ${nat.id} already forwards ${key}; a public address, port and protocol forward to one place. Change that rule (ModifyNatGatewayDestinationIpPortTranslationNatRule) instead.`);
        if (inBatch.has(key)) fail('InvalidParameterValue.NatGatewayDnatRuleRepeated', `\`${where}\` forwards ${key}, as an earlier rule of this request does; give each once.`);
        inBatch.add(key);
        rows.push(row);
      }
      await w.tx.insertInto('nat_dnat_rules').values(rows).execute();
    });
  },
});

const DNAT_FILTERS = ['nat-gateway-id', 'vpc-id', 'public-ip-address', 'public-port', 'private-ip-address', 'private-port', 'description'];

export const describeDnatRules = defineAction({
  service: 'vpc',
  name: 'DescribeNatGatewayDestinationIpPortTranslationNatRules',
  params: obj({
    NatGatewayIds: opt(arr(str())),
    Filters: opt(filters(DNAT_FILTERS, { codes: { unknownName: 'InvalidParameter' } })),
    ...paging,
  }),
  async run(ctx, p) {
    checkIdsOrFilters(p);
    let q = ctx.db.selectFrom('nat_dnat_rules').innerJoin('nat_gateways', 'nat_gateways.id', 'nat_dnat_rules.nat_gateway_id').where('nat_gateways.account', '=', ctx.account.uin);
    if (p.NatGatewayIds?.length) q = q.where('nat_gateways.id', 'in', p.NatGatewayIds);
    for (const [i, f] of (p.Filters ?? []).entries()) {
      const v = f.Values;
      if (!v.length) fail('InvalidParameterValue', `\`Filters.${i}.Values\` must have at least one value.`);
      const ports = () =>
        v.map((x, j) => (/^\d{1,5}$/.test(x) ? Number(x) : fail('InvalidParameterValue.Malformed', `\`Filters.${i}.Values.${j}\` is \`${x}\`; ${f.Name} takes port numbers.`)));
      if (f.Name === 'nat-gateway-id') q = q.where('nat_gateways.id', 'in', v);
      else if (f.Name === 'vpc-id') q = q.where('nat_gateways.vpc_id', 'in', v);
      else if (f.Name === 'public-ip-address') q = q.where('nat_dnat_rules.public_ip', 'in', v);
      else if (f.Name === 'public-port') q = q.where('nat_dnat_rules.public_port', 'in', ports());
      else if (f.Name === 'private-ip-address') q = q.where('nat_dnat_rules.private_ip', 'in', v);
      else if (f.Name === 'private-port') q = q.where('nat_dnat_rules.private_port', 'in', ports());
      else if (f.Name === 'description') q = q.where('nat_dnat_rules.description', 'in', v);
    }
    const { offset, limit } = page(p);
    const [rows, total] = await Promise.all([
      q
        .selectAll('nat_dnat_rules')
        .select('nat_gateways.vpc_id')
        .orderBy('nat_dnat_rules.created_at')
        .orderBy('nat_dnat_rules.nat_gateway_id')
        .orderBy('nat_dnat_rules.public_ip')
        .orderBy('nat_dnat_rules.public_port')
        .orderBy('nat_dnat_rules.protocol')
        .limit(limit)
        .offset(offset)
        .execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)),
    ]);
    return { NatGatewayDestinationIpPortTranslationNatRuleSet: rows.map((r) => toDnatRule(r, r.vpc_id)), TotalCount: total };
  },
});

export const modifyDnatRule = defineAction({
  service: 'vpc',
  name: 'ModifyNatGatewayDestinationIpPortTranslationNatRule',
  params: obj({ NatGatewayId: str(), SourceNatRule: dnatRule, DestinationNatRule: dnatRule }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      requireAvailable(nat, 'ResourceInUse');
      const rows = await dnatRulesOf(w.tx, [nat.id]);
      const old = findDnat(rows, p.SourceNatRule, nat, 'SourceNatRule');
      const c = await checkDnat(w, nat, await gatewayIps(w, nat), p.DestinationNatRule, 'DestinationNatRule', {
        // ModifyNatGatewayDestinationIpPortTranslationNatRule's own list has no code for a foreign EIP; Create's is used.
        eip: 'UnsupportedOperation.NatGatewayEipNotExists',
        pip: 'InvalidParameterValue.NatGatewayDnatRulePipNeedVm',
      });
      const row: DnatRow = { ...old, protocol: c.protocol, public_ip: c.PublicIpAddress, public_port: c.PublicPort, private_ip: c.PrivateIpAddress, private_port: c.PrivatePort, description: c.Description };
      const clash = rows.find((x) => x !== old && dnatKey(x) === dnatKey(row));
      if (clash) fail('UnsupportedOperation.RecordExists', `${nat.id} already forwards ${dnatKey(row)} to ${clash.private_ip}:${clash.private_port}; change or delete that rule first.`);
      await deleteDnat(w, old);
      await w.tx.insertInto('nat_dnat_rules').values(row).execute();
    });
  },
});

export const deleteDnatRules = defineAction({
  service: 'vpc',
  name: 'DeleteNatGatewayDestinationIpPortTranslationNatRule',
  params: obj({ NatGatewayId: str(), DestinationIpPortTranslationNatRules: arr(dnatRule, { min: 1 }) }),
  async run(ctx, p) {
    checkNatId(p.NatGatewayId);
    return changeNat(ctx, p.NatGatewayId, async (w, nat) => {
      const rows = await dnatRulesOf(w.tx, [nat.id]);
      const doomed = p.DestinationIpPortTranslationNatRules.map((r, i) => findDnat(rows, r, nat, `DestinationIpPortTranslationNatRules.${i}`));
      for (const row of new Set(doomed)) await deleteDnat(w, row);
    });
  },
});

export const natRuleActions = [createSnatRules, describeSnatRules, modifySnatRule, deleteSnatRules, createDnatRules, describeDnatRules, modifyDnatRule, deleteDnatRules];
