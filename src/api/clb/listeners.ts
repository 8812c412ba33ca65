/**
 * Layer-4 listeners (clb 2018-03-17): CreateListener, DescribeListeners,
 * ModifyListener, DeleteListener. TCP and UDP only; one listener per port and
 * protocol of a load balancer; WRR only (the LB nodes' Maglev tables honour
 * weights, not connection counts). Each change is a task (lbTask).
 */
import type { Listener } from 'tencentcloud-sdk-nodejs/tencentcloud/services/clb/v20180317/clb_models.js';
import { newId } from '../../core/ids.js';
import { deleteListener as dropListener, insertListeners, listenersOf, parseHealthCheck, updateListener, type ListenerRow } from '../../store/load-balancers.js';
import { defineAction } from '../action.js';
import { tencentTime } from '../common.js';
import { fail } from '../errors.js';
import { any, arr, bool, int, obj, opt, str } from '../params.js';
import { checkIdList, lbTask, LISTENER_ID, listenerOf, nameParam, readLoadBalancer } from './common.js';
import { healthCheckParam, normaliseHealthCheck } from './health-check.js';

/** Listeners a load balancer has at most (Tencent's default quota). */
export const LISTENERS_PER_LB = 50;
const PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'TCP_SSL', 'QUIC'];

function checkProtocol(protocol: string): 'TCP' | 'UDP' {
  if (protocol === 'TCP' || protocol === 'UDP') return protocol;
  if (PROTOCOLS.includes(protocol))
    fail('InvalidParameter.ProtocolCheckFailed', `\`Protocol\` ${protocol} is not available: Weft's load balancers are layer 4, TCP and UDP only.`);
  return fail('InvalidParameterValue', `\`Protocol\` ${protocol} is not one of ${PROTOCOLS.join(', ')}.`);
}

function checkScheduler(s: string | undefined) {
  if (s === undefined || s === 'WRR') return;
  if (s === 'LEAST_CONN')
    fail(
      'InvalidParameterValue',
      "`Scheduler` LEAST_CONN is not available: Weft's LB nodes spread flows with a Maglev table, which honours target weights but not connection counts (no node knows the others' connections). Use WRR.",
    );
  fail('InvalidParameterValue', `\`Scheduler\` ${s} is not available; Weft's listeners schedule by WRR only.`);
}

function checkSessionExpireTime(t: number | undefined) {
  if (t !== undefined && t !== 0 && (t < 30 || t > 3600))
    fail('InvalidParameterValue', `\`SessionExpireTime\` is ${t}; give 0 (off) or 30 to 3600 seconds.`);
}

/** Request fields of layer-7, TLS, target-group or capacity features: accepted when absent, off or at their default. */
function refuseOptions(p: Record<string, unknown>) {
  const no = (field: string, why: string) => fail('InvalidParameterValue', `\`${field}\`: ${why}; omit it.`);
  if (p.Certificate !== undefined || p.MultiCertInfo !== undefined) no(p.Certificate !== undefined ? 'Certificate' : 'MultiCertInfo', 'TCP and UDP listeners hold no certificate');
  if (p.SniSwitch) no('SniSwitch', 'SNI belongs to HTTPS listeners');
  if (p.KeepaliveEnable) no('KeepaliveEnable', 'keep-alive belongs to HTTP and HTTPS listeners');
  if (p.H2cSwitch) no('H2cSwitch', 'h2c belongs to HTTP listeners');
  if (p.SslCloseSwitch) no('SslCloseSwitch', 'it belongs to TCP_SSL listeners');
  if (p.ProxyProtocol) no('ProxyProtocol', 'Weft does not send the PROXY protocol header');
  if (p.SnatEnable) no('SnatEnable', "Weft's load balancers keep the client's source address");
  if (p.TargetType !== undefined && p.TargetType !== 'NODE') no('TargetType', 'Weft has no target groups (NODE only)');
  if (p.SessionType !== undefined && p.SessionType !== 'NORMAL') no('SessionType', 'Weft keeps sessions by client address only (NORMAL)');
  if (p.EndPort !== undefined || (p.FullEndPorts as unknown[] | undefined)?.length) no(p.EndPort !== undefined ? 'EndPort' : 'FullEndPorts', 'Weft has no port-range listeners');
  for (const f of ['MaxConn', 'MaxCps'])
    if (p[f] !== undefined && p[f] !== -1) no(f, 'per-listener connection limits belong to performance-capacity load balancers, which Weft does not have (-1: none)');
  for (const f of ['DeregisterTargetRst', 'RescheduleTargetZeroWeight', 'RescheduleUnhealthy', 'RescheduleExpandTarget'])
    if (p[f]) no(f, 'Weft does not reschedule existing connections');
  if (p.IdleConnectTimeout !== undefined && ((p.IdleConnectTimeout as number) < 10 || (p.IdleConnectTimeout as number) > 900))
    fail('InvalidParameterValue', `\`IdleConnectTimeout\` is ${String(p.IdleConnectTimeout)}; give 10 to 900 seconds.`);
}

/** The request fields CreateListener and ModifyListener share. */
const listenerOptions = {
  SessionExpireTime: opt(int()),
  HealthCheck: healthCheckParam,
  Certificate: opt(any()),
  Scheduler: opt(str()),
  SniSwitch: opt(int()),
  TargetType: opt(str()),
  SessionType: opt(str()),
  KeepaliveEnable: opt(int()),
  DeregisterTargetRst: opt(bool()),
  MultiCertInfo: opt(any()),
  MaxConn: opt(int()),
  MaxCps: opt(int()),
  IdleConnectTimeout: opt(int()),
  ProxyProtocol: opt(bool()),
  SnatEnable: opt(bool()),
  DataCompressMode: opt(str()),
  RescheduleTargetZeroWeight: opt(bool()),
  RescheduleUnhealthy: opt(bool()),
  RescheduleExpandTarget: opt(bool()),
  RescheduleStartTime: opt(int()),
  RescheduleInterval: opt(int()),
};

type ListenerAnswer = { [K in keyof Listener]-?: Listener[K] | null };

export function toListener(l: ListenerRow): ListenerAnswer {
  return {
    ListenerId: l.id,
    Protocol: l.protocol,
    Port: l.port,
    Certificate: null,
    HealthCheck: parseHealthCheck(l.health_check),
    Scheduler: l.scheduler,
    SessionExpireTime: l.session_expire_time,
    SniSwitch: 0,
    Rules: null,
    ListenerName: l.name,
    CreateTime: tencentTime(l.created_at),
    EndPort: 0,
    TargetType: 'NODE',
    TargetGroup: null,
    SessionType: 'NORMAL',
    KeepaliveEnable: 0,
    Toa: false,
    DeregisterTargetRst: false,
    AttrFlags: [],
    TargetGroupList: [],
    MaxConn: -1,
    MaxCps: -1,
    IdleConnectTimeout: l.protocol === 'UDP' ? 300 : 900,
    RescheduleInterval: 0,
    DataCompressMode: 'transparent',
    RescheduleStartTime: 0,
  };
}

export const createListener = defineAction({
  service: 'clb',
  name: 'CreateListener',
  params: obj({
    LoadBalancerId: str(),
    Ports: arr(int(), { min: 1, max: LISTENERS_PER_LB }),
    Protocol: str(),
    ListenerNames: opt(arr(nameParam)),
    EndPort: opt(int()),
    FullEndPorts: opt(arr(int())),
    H2cSwitch: opt(bool()),
    SslCloseSwitch: opt(bool()),
    ...listenerOptions,
  }),
  async run(ctx, p) {
    const protocol = checkProtocol(p.Protocol);
    p.Ports.forEach((port, i) => {
      if (port < 1 || port > 65535) fail('InvalidParameter.PortCheckFailed', `\`Ports.${i}\` is ${port}; give 1 to 65535.`);
      if (p.Ports.indexOf(port) !== i) fail('InvalidParameter.PortCheckFailed', `Port ${port} is given twice in \`Ports\`; each port makes one listener.`);
    });
    if (p.ListenerNames && p.ListenerNames.length !== p.Ports.length)
      fail('InvalidParameterValue', `\`ListenerNames\` has ${p.ListenerNames.length} name(s) for ${p.Ports.length} port(s); give one per port, in order.`);
    checkScheduler(p.Scheduler);
    checkSessionExpireTime(p.SessionExpireTime);
    refuseOptions(p);
    const health = JSON.stringify(normaliseHealthCheck(protocol, p.HealthCheck));
    return lbTask(ctx, 'CreateListener', p.LoadBalancerId, async (w, lb) => {
      const existing = await listenersOf(w.tx, [lb.id]);
      const clash = existing.filter((l) => l.protocol === protocol && p.Ports.includes(l.port));
      if (clash.length)
        fail('InvalidParameter.PortCheckFailed', `The load balancer \`${lb.id}\` has ${protocol} listener(s) on port(s) ${clash.map((c) => `${c.port} (${c.id})`).join(', ')} already.`);
      if (existing.length + p.Ports.length > LISTENERS_PER_LB)
        fail('LimitExceeded', `A load balancer has at most ${LISTENERS_PER_LB} listeners; \`${lb.id}\` has ${existing.length} and ${p.Ports.length} more were asked for.`);
      const rows: ListenerRow[] = p.Ports.map((port, i) => ({
        id: newId('lbl'),
        load_balancer_id: lb.id,
        name: p.ListenerNames?.[i] ?? '',
        protocol,
        port,
        scheduler: 'WRR',
        session_expire_time: p.SessionExpireTime ?? 0,
        health_check: health,
        created_at: w.now,
      }));
      await insertListeners(w.tx, rows);
      return { ListenerIds: rows.map((r) => r.id) };
    });
  },
});

export const describeListeners = defineAction({
  service: 'clb',
  name: 'DescribeListeners',
  params: obj({ LoadBalancerId: str(), ListenerIds: opt(arr(str())), Protocol: opt(str()), Port: opt(int()) }),
  async run(ctx, p) {
    checkIdList(p.ListenerIds, LISTENER_ID, 'ListenerIds', 'lbl-xxxxxxxx', 100);
    if (p.Protocol !== undefined && !PROTOCOLS.includes(p.Protocol)) fail('InvalidParameterValue', `\`Protocol\` ${p.Protocol} is not one of ${PROTOCOLS.join(', ')}.`);
    if (p.Port !== undefined && (p.Port < 1 || p.Port > 65535)) fail('InvalidParameterValue', `\`Port\` is ${p.Port}; give 1 to 65535.`);
    const lb = await readLoadBalancer(ctx, p.LoadBalancerId);
    const rows = await listenersOf(ctx.db, [lb.id], { ids: p.ListenerIds?.length ? p.ListenerIds : undefined, protocol: p.Protocol, port: p.Port });
    return { Listeners: rows.map(toListener), TotalCount: rows.length };
  },
});

export const modifyListener = defineAction({
  service: 'clb',
  name: 'ModifyListener',
  params: obj({ LoadBalancerId: str(), ListenerId: str(), ListenerName: opt(nameParam), ...listenerOptions }),
  async run(ctx, p) {
    checkScheduler(p.Scheduler);
    checkSessionExpireTime(p.SessionExpireTime);
    refuseOptions(p);
    return lbTask(ctx, 'ModifyListener', p.LoadBalancerId, async (w, lb) => {
      const l = await listenerOf(w.tx, lb, p.ListenerId);
      const set: Parameters<typeof updateListener>[2] = {};
      if (p.ListenerName !== undefined) set.name = p.ListenerName;
      if (p.SessionExpireTime !== undefined) set.session_expire_time = p.SessionExpireTime;
      if (p.HealthCheck !== undefined)
        set.health_check = JSON.stringify(normaliseHealthCheck(l.protocol as 'TCP' | 'UDP', p.HealthCheck, parseHealthCheck(l.health_check)));
      await updateListener(w.tx, l.id, set);
      return {};
    });
  },
});

export const deleteListener = defineAction({
  service: 'clb',
  name: 'DeleteListener',
  params: obj({ LoadBalancerId: str(), ListenerId: str() }),
  async run(ctx, p) {
    return lbTask(ctx, 'DeleteListener', p.LoadBalancerId, async (w, lb) => {
      const l = await listenerOf(w.tx, lb, p.ListenerId);
      await dropListener(w.tx, l.id);
      return {};
    });
  },
});

export const listenerActions = [createListener, describeListeners, modifyListener, deleteListener];
