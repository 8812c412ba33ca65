/**
 * What-if: the flows whose verdict a proposed security-group policy change
 * would turn (delivered ↔ dropped), before anything is applied. Pure.
 *
 * The change is a request body of one of the policy actions
 * (CreateSecurityGroupPolicies, DeleteSecurityGroupPolicies,
 * ReplaceSecurityGroupPolicy, ReplaceSecurityGroupPolicies,
 * ModifySecurityGroupPolicies). It is applied to the group's lists with the
 * same pure edits the action uses (core/sg-edits.ts), the new lists become
 * rules with the compiler's toRule, and every document holding the group gets
 * them — the documents the compiler would produce after the change. Then both
 * regions are traced for the flows the change can touch: the instances the
 * group is bound to, against every instance of their VPC, in the changed
 * direction(s), for each port the old and new rules mention and the probe.
 */
import { referencedGroups, toRule } from '../compile/compile.js';
import type { HostDocument, Rule, SecurityGroupRules, VpcContext } from '../contract/host-document.js';
import { editPolicyLists, type PolicyActionName, type PolicyLists, type PolicyRequest } from '../core/sg-edits.js';
import type { Direction, Policy, PolicyAction, Protocol } from '../core/sg-policy.js';
import { reaches, type EndCode, type L4, type TraceResult, type Verdict } from './model.js';
import type { SecurityGroupDetail } from './stages/security-group.js';
import { trace } from './trace.js';
import { buildWorld, instancesOf, type World } from './world.js';

export interface Probe {
  protocol: L4;
  port?: number;
}

export interface WhatIfQuery {
  action: PolicyActionName;
  request: PolicyRequest;
  /** The group's stored lists; default: read back from the documents that hold the group. */
  current?: PolicyLists;
  /** The group's Version, for requests that carry one. */
  version?: number;
  /** Policies-per-direction quota. */
  limit?: number;
  /** Extra flows to check besides the ports the rules mention (default tcp 22). */
  probes?: Probe[];
}

export interface FlowVerdict {
  verdict: Verdict;
  code: EndCode;
  /** What decided: the deciding security-group hop's summary, or the trace's reason. */
  reason: string;
  securityGroupId?: string;
  policyIndex?: number;
}

export interface FlowChange {
  vpcId: string;
  from: string;
  fromIp: string;
  to: string;
  toIp: string;
  protocol: L4;
  port?: number;
  before: FlowVerdict;
  after: FlowVerdict;
}

type Dir = 'ingress' | 'egress';

export interface WhatIfResult {
  securityGroupId: string;
  action: PolicyActionName;
  /** Directions the change edits. */
  directions: Dir[];
  before: SecurityGroupRules;
  after: SecurityGroupRules;
  /** Instances (with a port) the group is bound to. */
  boundInstances: string[];
  probes: Probe[];
  /** Flows traced before and after. */
  flowsChecked: number;
  changes: FlowChange[];
  /** Said when nothing can change (the group is bound to no instance with a port). */
  note?: string;
}

const lower = (d: Direction): Dir => (d === 'Ingress' ? 'ingress' : 'egress');

/** A document rule back as a policy (content only: what the list edits compare). */
export function policyOf(r: Rule): Policy {
  const port = !r.ports.length
    ? 'ALL'
    : r.ports.length === 1 && r.ports[0]![0] !== r.ports[0]![1]
      ? `${r.ports[0]![0]}-${r.ports[0]![1]}`
      : r.ports.map(([a]) => String(a)).join(',');
  return {
    protocol: r.protocol.toUpperCase() as Protocol,
    port,
    cidr: r.cidr ?? '',
    ipv6Cidr: r.ipv6Cidr ?? '',
    sgRef: r.group ?? '',
    action: r.action.toUpperCase() as PolicyAction,
    description: '',
  };
}

const rulesOf = (sgId: string, dir: Dir, list: readonly Policy[]): Rule[] =>
  list.map((p, position) =>
    toRule({ sg_id: sgId, direction: dir, position, protocol: p.protocol, port: p.port, cidr: p.cidr, ipv6_cidr: p.ipv6Cidr, ref_sg_id: p.sgRef, action: p.action }),
  );

/** The documents with `sgId`'s rules replaced, and each context's referenced-group members recomputed from the world. */
export function withGroupRules(world: World, documents: readonly HostDocument[], sgId: string, rules: SecurityGroupRules): HostDocument[] {
  const membersIn = (vpcId: string, sg: string) =>
    instancesOf(world, vpcId)
      .filter((i) => i.port.securityGroups.includes(sg))
      .map((i) => i.port.ip)
      .sort();
  return documents.map((doc) => {
    if (!doc.vpcs.some((v) => v.securityGroups[sgId])) return doc;
    return {
      ...doc,
      vpcs: doc.vpcs.map((v): VpcContext => {
        if (!v.securityGroups[sgId]) return v;
        const securityGroups = { ...v.securityGroups, [sgId]: { ingress: [...rules.ingress], egress: [...rules.egress] } };
        const groupMembers: Record<string, string[]> = {};
        for (const g of referencedGroups(securityGroups)) groupMembers[g] = v.groupMembers[g] ?? membersIn(v.vpcId, g);
        return { ...v, securityGroups, groupMembers };
      }),
    };
  });
}

/** The (protocol, port) pairs the rules mention: each range's ends; protocols without ports once. */
export function probesOf(rules: readonly Rule[], extra: readonly Probe[]): Probe[] {
  const out = new Map<string, Probe>();
  const add = (p: Probe) => out.set(`${p.protocol}/${p.port ?? ''}`, p);
  const fallbackPort = extra.find((p) => p.port !== undefined)?.port ?? 22;
  for (const r of rules) {
    if (r.protocol === 'tcp' || r.protocol === 'udp') {
      if (!r.ports.length) add({ protocol: r.protocol, port: fallbackPort });
      for (const [a, b] of r.ports) {
        add({ protocol: r.protocol, port: Math.max(1, a) });
        add({ protocol: r.protocol, port: Math.max(1, b) });
      }
    } else if (r.protocol === 'icmp') add({ protocol: 'icmp' });
    else if (r.protocol === 'all') {
      add({ protocol: 'tcp', port: fallbackPort });
      add({ protocol: 'udp', port: fallbackPort });
      add({ protocol: 'icmp' });
    }
  }
  for (const p of extra) add(p);
  const order = { tcp: 0, udp: 1, icmp: 2 };
  return [...out.values()].sort((a, b) => order[a.protocol] - order[b.protocol] || (a.port ?? 0) - (b.port ?? 0));
}

function verdictOf(r: TraceResult): FlowVerdict {
  const sg = [...r.hops].reverse().find((h) => h.stage === 'security-group');
  const d = sg?.detail as SecurityGroupDetail | undefined;
  return {
    verdict: r.verdict,
    code: r.code,
    reason: sg && (r.verdict !== 'dropped' || sg.result === 'drop') ? sg.summary : r.reason,
    ...(d?.securityGroupId ? { securityGroupId: d.securityGroupId, policyIndex: d.policyIndex } : {}),
  };
}

/** The flows a proposed policy change would turn, traced before and after. Throws PolicyError for a request the action would refuse. */
export function whatIf(documents: readonly HostDocument[], q: WhatIfQuery): WhatIfResult {
  const before = buildWorld(documents);
  const sgId = q.request.SecurityGroupId;
  const holder = documents.flatMap((d) => d.vpcs).find((v) => v.securityGroups[sgId]);
  const stored = holder?.securityGroups[sgId];
  const beforeRules: SecurityGroupRules = stored ?? {
    ingress: rulesOf(sgId, 'ingress', q.current?.Ingress ?? []),
    egress: rulesOf(sgId, 'egress', q.current?.Egress ?? []),
  };
  const current: PolicyLists = q.current ?? { Ingress: beforeRules.ingress.map(policyOf), Egress: beforeRules.egress.map(policyOf) };
  const edited = editPolicyLists(q.action, q.request, current, { version: q.version, limit: q.limit });
  const directions = (['Ingress', 'Egress'] as const).filter((d) => edited[d]).map(lower);
  const afterRules: SecurityGroupRules = {
    ingress: edited.Ingress ? rulesOf(sgId, 'ingress', edited.Ingress) : beforeRules.ingress,
    egress: edited.Egress ? rulesOf(sgId, 'egress', edited.Egress) : beforeRules.egress,
  };
  const extra = q.probes ?? [{ protocol: 'tcp', port: 22 }];
  const probes = probesOf(directions.flatMap((d) => [...beforeRules[d], ...afterRules[d]]), extra);
  const bound = [...before.instances.values()].filter((i) => i.port.securityGroups.includes(sgId));
  const result: WhatIfResult = {
    securityGroupId: sgId,
    action: q.action,
    directions,
    before: beforeRules,
    after: afterRules,
    boundInstances: bound.map((i) => i.port.instanceId).sort(),
    probes,
    flowsChecked: 0,
    changes: [],
  };
  if (!bound.length) {
    result.note = `${sgId} is bound to no instance with a port on a host: no flow can change`;
    return result;
  }
  const after = buildWorld(withGroupRules(before, documents, sgId, afterRules));

  // Ordered pairs: a bound instance as source (egress changed) or as destination (ingress changed).
  const pairs = new Map<string, [string, string]>();
  for (const b of bound) {
    for (const other of instancesOf(before, b.router.vpc.vpcId)) {
      if (other.port.instanceId === b.port.instanceId) continue;
      if (directions.includes('egress')) pairs.set(`${b.port.instanceId}>${other.port.instanceId}`, [b.port.instanceId, other.port.instanceId]);
      if (directions.includes('ingress')) pairs.set(`${other.port.instanceId}>${b.port.instanceId}`, [other.port.instanceId, b.port.instanceId]);
    }
  }
  for (const [from, to] of [...pairs.values()].sort((x, y) => (x.join() < y.join() ? -1 : 1))) {
    for (const probe of probes) {
      const query = { from, to, protocol: probe.protocol, port: probe.port };
      const was = trace(before, query);
      const will = trace(after, query);
      result.flowsChecked++;
      if (reaches(was) === reaches(will)) continue;
      result.changes.push({
        vpcId: was.source.vpcId,
        from,
        fromIp: was.source.ip,
        to,
        toIp: was.destination.ip,
        protocol: probe.protocol,
        ...(probe.port !== undefined ? { port: probe.port } : {}),
        before: verdictOf(was),
        after: verdictOf(will),
      });
    }
  }
  return result;
}
