/**
 * Targets of layer-4 listeners (clb 2018-03-17): RegisterTargets,
 * DeregisterTargets, ModifyTargetWeight (tasks, as listener changes),
 * DescribeTargets and DescribeTargetHealth.
 *
 * A target is an address and port of the account's instance in the load
 * balancer's VPC: InstanceId stands for the instance's primary private
 * address, EniIp names the address. Weight 0–100, 10 by default; 0 drains.
 * Health: what the LB nodes' checks last said (core/target-health.ts over
 * lb_target_health rows); TargetId is the instance's ID.
 */
import { parseIp } from '../../core/cidr.js';
import { targetHealth, takesTraffic } from '../../core/target-health.js';
import { publicIpsOfInstances } from '../../store/eips.js';
import {
  addressHolders,
  deleteTargets,
  healthRowsOf,
  insertTargets,
  instancesForTargets,
  listenersOf,
  healthChecksOn,
  setTargetWeight,
  targetInstances,
  targetsOf,
  type LoadBalancerRow,
  type TargetRow,
} from '../../store/load-balancers.js';
import type { Write } from '../../store/store.js';
import { defineAction } from '../action.js';
import { tencentTime } from '../common.js';
import { fail } from '../errors.js';
import { arr, filters, filterValues, int, obj, opt, str } from '../params.js';
import { ID } from '../vpc/lookup.js';
import { checkIdList, lbTask, LB_ID, LISTENER_ID, listenerOf, readLoadBalancer, readLoadBalancers, targetParam } from './common.js';

/** Targets one call names at most. */
const MAX_TARGETS = 20;
const DEFAULT_WEIGHT = 10;

type TargetInput = ReturnType<typeof targetParam.parse>;

function checkWeight(w: number | undefined, param: string) {
  if (w !== undefined && (w < 0 || w > 100)) fail('InvalidParameterValue', `\`${param}\` is ${w}; give 0 to 100.`);
}

/** The checks every Targets list gets before the transaction: one of InstanceId and EniIp, a port, a weight. */
function checkTargets(ts: readonly TargetInput[]) {
  ts.forEach((t, i) => {
    const at = `Targets.${i}`;
    if ((t.InstanceId === undefined) === (t.EniIp === undefined)) fail('InvalidParameter', `\`${at}\` must give exactly one of \`InstanceId\` and \`EniIp\`.`);
    if (t.InstanceId !== undefined && !ID.instance.test(t.InstanceId))
      fail('InvalidParameter.FormatError', `\`${t.InstanceId}\` (\`${at}.InstanceId\`) is not an instance ID; expected the form ins-xxxxxxxx.`);
    if (t.EniIp !== undefined && parseIp(t.EniIp) === undefined) fail('InvalidParameter.FormatError', `\`${t.EniIp}\` (\`${at}.EniIp\`) is not an IPv4 address.`);
    if (t.Port < 1 || t.Port > 65535) fail('InvalidParameterValue', `\`${at}.Port\` is ${t.Port}; give 1 to 65535.`);
    if (t.Type !== undefined && t.Type !== 'CVM' && t.Type !== 'ENI') fail('InvalidParameterValue', `\`${at}.Type\` is ${t.Type}; give CVM or ENI.`);
    checkWeight(t.Weight, `${at}.Weight`);
    const key = `${t.InstanceId ?? t.EniIp} ${t.Port}`;
    if (ts.findIndex((o) => `${o.InstanceId ?? o.EniIp} ${o.Port}` === key) !== i)
      fail('InvalidParameterValue.Duplicate', `\`${at}\` (${t.InstanceId ?? t.EniIp}:${t.Port}) is named twice in \`Targets\`.`);
  });
}

/** New targets: the account's instances (or addresses of them) in the load balancer's VPC. */
async function resolveNew(w: Write, account: string, lb: LoadBalancerRow, ts: readonly TargetInput[]): Promise<{ instanceId: string; ip: string; port: number; weight: number }[]> {
  const instances = new Map((await instancesForTargets(w.tx, account, ts.flatMap((t) => t.InstanceId ?? []))).map((r) => [r.id, r]));
  const holders = new Map((await addressHolders(w.tx, account, lb.vpc_id, ts.flatMap((t) => t.EniIp ?? []))).map((h) => [h.ip, h]));
  return ts.map((t, i) => {
    const at = `Targets.${i}`;
    let instanceId: string;
    let ip: string;
    if (t.InstanceId !== undefined) {
      const inst = instances.get(t.InstanceId) ?? fail('InvalidParameterValue', `The instance \`${t.InstanceId}\` (\`${at}.InstanceId\`) does not exist.`);
      if (inst.vpc_id !== lb.vpc_id)
        fail('InvalidParameterValue', `The instance \`${t.InstanceId}\` (\`${at}.InstanceId\`) is in ${inst.vpc_id}, not in the load balancer's VPC ${lb.vpc_id}.`);
      instanceId = inst.id;
      ip = inst.private_ip;
    } else {
      const h = holders.get(t.EniIp!);
      if (!h || h.owner_kind !== 'instance')
        fail('InvalidParameterValue', `\`${t.EniIp}\` (\`${at}.EniIp\`) is not the address of an instance in the load balancer's VPC ${lb.vpc_id}.`);
      instanceId = h!.owner_id;
      ip = h!.ip;
    }
    return { instanceId, ip, port: t.Port, weight: t.Weight ?? DEFAULT_WEIGHT };
  });
}

/** Registered targets the list names (by InstanceId or EniIp, and Port); one not registered: InvalidParameterValue. */
function registeredOf(listenerId: string, registered: readonly TargetRow[], ts: readonly TargetInput[]): TargetRow[] {
  return ts.map((t, i) => {
    const hit = registered.find((r) => r.port === t.Port && (t.InstanceId !== undefined ? r.instance_id === t.InstanceId : r.private_ip === t.EniIp));
    return hit ?? fail('InvalidParameterValue', `\`Targets.${i}\` (${t.InstanceId ?? t.EniIp}:${t.Port}) is not registered with the listener \`${listenerId}\`.`);
  });
}

/** Location (layer-7 rule) parameters: layer-4 listeners have none. */
const ruleParams = { LocationId: opt(str()), Domain: opt(str()), Url: opt(str()) };
function refuseRules(p: { LocationId?: string; Domain?: string; Url?: string }) {
  for (const f of ['LocationId', 'Domain', 'Url'] as const)
    if (p[f] !== undefined) fail('InvalidParameter', `\`${f}\` names a forwarding rule of an HTTP/HTTPS listener; Weft's TCP and UDP listeners have none.`);
}

const targetsParams = { LoadBalancerId: str(), ListenerId: str(), Targets: arr(targetParam, { min: 1, max: MAX_TARGETS }), ...ruleParams };

export const registerTargets = defineAction({
  service: 'clb',
  name: 'RegisterTargets',
  params: obj(targetsParams),
  async run(ctx, p) {
    refuseRules(p);
    checkTargets(p.Targets);
    return lbTask(ctx, 'RegisterTargets', p.LoadBalancerId, async (w, lb) => {
      const l = await listenerOf(w.tx, lb, p.ListenerId);
      const wanted = await resolveNew(w, ctx.account.uin, lb, p.Targets);
      const registered = await targetsOf(w.tx, [l.id]);
      wanted.forEach((t, i) => {
        if (wanted.findIndex((o) => o.ip === t.ip && o.port === t.port) !== i)
          fail('InvalidParameterValue.Duplicate', `\`Targets.${i}\` is ${t.ip}:${t.port}, named already in \`Targets\`.`);
        if (registered.some((r) => r.private_ip === t.ip && r.port === t.port))
          fail('InvalidParameterValue.Duplicate', `${t.ip}:${t.port} (\`Targets.${i}\`) is registered with the listener \`${l.id}\` already.`);
      });
      await insertTargets(
        w.tx,
        wanted.map((t) => ({ listener_id: l.id, load_balancer_id: lb.id, instance_id: t.instanceId, private_ip: t.ip, port: t.port, weight: t.weight, created_at: w.now })),
      );
      return {};
    });
  },
});

export const deregisterTargets = defineAction({
  service: 'clb',
  name: 'DeregisterTargets',
  params: obj(targetsParams),
  async run(ctx, p) {
    refuseRules(p);
    checkTargets(p.Targets);
    return lbTask(ctx, 'DeregisterTargets', p.LoadBalancerId, async (w, lb) => {
      const l = await listenerOf(w.tx, lb, p.ListenerId);
      const hits = registeredOf(l.id, await targetsOf(w.tx, [l.id]), p.Targets);
      await deleteTargets(w.tx, l.id, hits.map((h) => ({ ip: h.private_ip, port: h.port })));
      return {};
    });
  },
});

export const modifyTargetWeight = defineAction({
  service: 'clb',
  name: 'ModifyTargetWeight',
  params: obj({ LoadBalancerId: str(), ListenerId: str(), Targets: arr(targetParam, { min: 1, max: MAX_TARGETS }), ...ruleParams, Weight: opt(int()) }),
  async run(ctx, p) {
    refuseRules(p);
    checkTargets(p.Targets);
    checkWeight(p.Weight, 'Weight');
    return lbTask(ctx, 'ModifyTargetWeight', p.LoadBalancerId, async (w, lb) => {
      const l = await listenerOf(w.tx, lb, p.ListenerId);
      const hits = registeredOf(l.id, await targetsOf(w.tx, [l.id]), p.Targets);
      for (const [i, h] of hits.entries())
        await setTargetWeight(w.tx, l.id, { ip: h.private_ip, port: h.port }, p.Targets[i]!.Weight ?? p.Weight ?? DEFAULT_WEIGHT);
      return {};
    });
  },
});

const PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'TCP_SSL', 'QUIC'];

export const describeTargets = defineAction({
  service: 'clb',
  name: 'DescribeTargets',
  params: obj({
    LoadBalancerId: str(),
    ListenerIds: opt(arr(str())),
    Protocol: opt(str()),
    Port: opt(int()),
    Filters: opt(filters(['location-id', 'private-ip-address', 'tag'], { codes: { unknownName: 'InvalidParameterValue.InvalidFilter' } })),
  }),
  async run(ctx, p) {
    checkIdList(p.ListenerIds, LISTENER_ID, 'ListenerIds', 'lbl-xxxxxxxx', MAX_TARGETS);
    if (p.Protocol !== undefined && !PROTOCOLS.includes(p.Protocol)) fail('InvalidParameterValue', `\`Protocol\` ${p.Protocol} is not one of ${PROTOCOLS.join(', ')}.`);
    const lb = await readLoadBalancer(ctx, p.LoadBalancerId);
    const listeners = await listenersOf(ctx.db, [lb.id], { ids: p.ListenerIds?.length ? p.ListenerIds : undefined, protocol: p.Protocol, port: p.Port });
    // Layer-4 targets have no forwarding rule and no tag: those filters select none.
    const none = filterValues(p.Filters, 'location-id') !== undefined || filterValues(p.Filters, 'tag') !== undefined;
    const targets = none ? [] : await targetsOf(ctx.db, listeners.map((l) => l.id), filterValues(p.Filters, 'private-ip-address'));
    const instanceIds = [...new Set(targets.map((t) => t.instance_id))];
    const [instances, publicIps] = await Promise.all([targetInstances(ctx.db, instanceIds), publicIpsOfInstances(ctx.db, instanceIds)]);
    const byId = new Map(instances.map((i) => [i.id, i]));
    return {
      Listeners: listeners.map((l) => ({
        ListenerId: l.id,
        Protocol: l.protocol,
        Port: l.port,
        Rules: null,
        EndPort: 0,
        Targets: targets
          .filter((t) => t.listener_id === l.id)
          .map((t) => ({
            Type: 'CVM',
            InstanceId: t.instance_id,
            Port: t.port,
            Weight: t.weight,
            PublicIpAddresses: publicIps.get(t.instance_id) ?? [],
            PrivateIpAddresses: [t.private_ip],
            InstanceName: byId.get(t.instance_id)?.name ?? null,
            RegisteredTime: tencentTime(t.created_at),
            EniId: byId.get(t.instance_id)?.eni_id ?? null,
            Tag: '',
            Zone: byId.get(t.instance_id)?.zone ?? null,
          })),
      })),
    };
  },
});

export const describeTargetHealth = defineAction({
  service: 'clb',
  name: 'DescribeTargetHealth',
  params: obj({ LoadBalancerIds: arr(str(), { min: 1 }), ListenerIds: opt(arr(str())), LocationIds: opt(arr(str())) }),
  async run(ctx, p) {
    checkIdList(p.LoadBalancerIds, LB_ID, 'LoadBalancerIds', 'lb-xxxxxxxx', 30);
    checkIdList(p.ListenerIds, LISTENER_ID, 'ListenerIds', 'lbl-xxxxxxxx', 100);
    const lbs = await readLoadBalancers(ctx, p.LoadBalancerIds, 'LoadBalancerIds');
    const listeners = await listenersOf(ctx.db, lbs.map((l) => l.id), { ids: p.ListenerIds?.length ? p.ListenerIds : undefined });
    const ids = listeners.map((l) => l.id);
    const [targets, health] = await Promise.all([targetsOf(ctx.db, ids), healthRowsOf(ctx.db, ids)]);
    const statuses = new Map<string, string[]>();
    for (const h of health) {
      const k = `${h.listener_id} ${h.private_ip} ${h.port}`;
      (statuses.get(k) ?? statuses.set(k, []).get(k)!).push(h.status);
    }
    // A layer-4 listener's targets are answered as one rule without ID; LocationIds name layer-7 rules, so select none.
    const rulesWanted = !p.LocationIds?.length;
    return {
      LoadBalancers: lbs.map((lb) => ({
        LoadBalancerId: lb.id,
        LoadBalancerName: lb.name,
        Listeners: listeners
          .filter((l) => l.load_balancer_id === lb.id)
          .map((l) => {
            const checksOn = healthChecksOn(l.health_check);
            return {
              ListenerId: l.id,
              ListenerName: l.name,
              Protocol: l.protocol,
              Port: l.port,
              Rules: rulesWanted
                ? [
                    {
                      LocationId: '',
                      Domain: null,
                      Url: null,
                      RuleId: '',
                      Targets: targets
                        .filter((t) => t.listener_id === l.id)
                        .map((t) => {
                          const detail = targetHealth(statuses.get(`${l.id} ${t.private_ip} ${t.port}`) ?? [], checksOn);
                          return {
                            IP: t.private_ip,
                            Port: t.port,
                            HealthStatus: takesTraffic(detail),
                            TargetId: t.instance_id,
                            HealthStatusDetail: detail,
                            HealthStatusDetial: detail,
                            TargetGroupId: '',
                            Weight: t.weight,
                          };
                        }),
                    },
                  ]
                : [],
            };
          }),
      })),
    };
  },
});

export const targetActions = [registerTargets, deregisterTargets, modifyTargetWeight, describeTargets, describeTargetHealth];
