/**
 * The monitor 2018-07-24 actions Weft serves: DescribeBaseMetrics (what can
 * be asked for) and GetMonitorData (the figures), over the per-instance
 * counters the agents read from the kernel (core/monitor-metrics.ts for the
 * catalogue and units, controller/instance-counters.ts for where the 10 s
 * buckets come from; docs/operations.md).
 *
 * Errors, all before anything is read (nothing is ever written here): an
 * unknown namespace or metric, a period the metric does not have, an unreadable
 * time, EndTime before StartTime, a range reaching past the retention or
 * holding more than 7200 points → InvalidParameterValue; a dimension other
 * than the metric's (InstanceId, natId) → InvalidParameterValue; an instance
 * or NAT gateway that does not exist or is another account's →
 * ResourceNotFound (the same answer for both).
 */
import { MAX_POINTS, METRICS, MONITOR_RETENTION_S, NAMESPACES, dataPoints, metricOf } from '../../core/monitor-metrics.js';
import { ownedResources, storedBuckets } from '../../store/monitor.js';
import { defineAction, type ActionDef } from '../action.js';
import { fail } from '../errors.js';
import { arr, intish, obj, opt, str } from '../params.js';

const dimension = obj({ Name: str(), Value: str() });
const WHAT = { instance: 'instance', nat: 'NAT gateway', eip: 'EIP' } as const;
const EXAMPLE = { instance: 'ins-…', nat: 'nat-…', eip: '203.0.113.10' } as const;

const checkNamespace = (ns: string) => {
  if (!NAMESPACES.includes(ns))
    fail('InvalidParameterValue', `The namespace \`${ns}\` (\`Namespace\`) is not served here; the namespaces are ${NAMESPACES.map((n) => `\`${n}\``).join(', ')}.`);
};

export const describeBaseMetrics = defineAction({
  service: 'monitor',
  name: 'DescribeBaseMetrics',
  params: obj({ Namespace: str(), MetricName: opt(str()), Dimensions: opt(arr(str())) }),
  async run(_ctx, p) {
    checkNamespace(p.Namespace);
    const wanted = p.Dimensions?.length ? new Set(p.Dimensions) : undefined;
    const set = METRICS.filter((m) => m.namespace === p.Namespace && (p.MetricName === undefined || m.name === p.MetricName) && (!wanted || wanted.has(m.dimension)));
    return {
      MetricSet: set.map((m) => ({
        Namespace: m.namespace,
        MetricName: m.name,
        Unit: m.unit,
        UnitCname: m.unitCname,
        Period: [...m.periods],
        Periods: m.periods.map((x) => ({ Period: String(x), StatType: ['avg', 'max', 'min'] })),
        Meaning: { En: m.meaningEn, Zh: m.meaningZh },
        Dimensions: [{ Dimensions: [m.dimension] }],
        MetricCName: m.cname,
        MetricEName: m.name,
      })),
    };
  },
});

/** ISO 8601 with a zone (`2018-09-22T19:51:23+08:00`), as the SDK's example; Unix seconds. */
function timeOf(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const ms = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(v) ? Date.parse(v.replace(' ', 'T')) : NaN;
  if (!Number.isFinite(ms)) fail('InvalidParameterValue', `\`${v}\` (\`${name}\`) is not a time; give ISO 8601 with a zone, e.g. 2018-09-22T19:51:23+08:00.`);
  return Math.floor(ms / 1000);
}

/** `2018-09-22T19:51:23+08:00`: the answer's times, as the request's (Beijing time, as Tencent answers). */
const beijing = (s: number) => `${new Date((s + 8 * 3600) * 1000).toISOString().slice(0, 19)}+08:00`;

export const getMonitorData = defineAction({
  service: 'monitor',
  name: 'GetMonitorData',
  params: obj({
    Namespace: str(),
    MetricName: str(),
    Instances: arr(obj({ Dimensions: arr(dimension) })),
    Period: opt(intish()),
    StartTime: opt(str()),
    EndTime: opt(str()),
    SpecifyStatistics: opt(intish({ min: 0, max: 7 })),
  }),
  async run(ctx, p) {
    checkNamespace(p.Namespace);
    const def = metricOf(p.Namespace, p.MetricName);
    if (!def)
      return fail(
        'InvalidParameterValue',
        `The metric \`${p.MetricName}\` (\`MetricName\`) is not in ${p.Namespace}; its metrics are ${METRICS.filter((m) => m.namespace === p.Namespace)
          .map((m) => `\`${m.name}\``)
          .join(', ')} (DescribeBaseMetrics lists them).`,
      );
    const period = p.Period ?? 300;
    if (!def.periods.includes(period))
      fail('InvalidParameterValue', `The period ${period} (\`Period\`) is not supported for ${p.MetricName}; use ${def.periods.join(' or ')} (seconds).`);
    if (p.Instances.length < 1 || p.Instances.length > 50)
      fail('InvalidParameterValue', `\`Instances\` has ${p.Instances.length} instance(s); give 1 to 50 per request.`);
    const now = Math.floor(Date.now() / 1000);
    const end = timeOf(p.EndTime, 'EndTime', now);
    const start = timeOf(p.StartTime, 'StartTime', end - 3600);
    if (end < start) fail('InvalidParameterValue', `\`EndTime\` (${p.EndTime}) is earlier than \`StartTime\` (${p.StartTime}); EndTime must not be earlier than StartTime.`);
    if (start < now - MONITOR_RETENTION_S)
      fail('InvalidParameterValue', `\`StartTime\` (${p.StartTime}) is more than ${MONITOR_RETENTION_S / 3600} h ago; data is kept ${MONITOR_RETENTION_S / 3600} h, start later.`);
    const points = Math.floor((end - start) / period + 1) * p.Instances.length;
    if (points > MAX_POINTS)
      fail('InvalidParameterValue', `The request spans ${points} data points (${p.Instances.length} instance(s) × ${Math.floor((end - start) / period + 1)} periods); the limit is ${MAX_POINTS}: shorten the range or use a longer period.`);
    const ids = p.Instances.map((inst, i) => {
      const d = inst.Dimensions;
      if (d.length !== 1 || d[0]!.Name !== def.dimension)
        fail('InvalidParameterValue', `\`Instances.${i}.Dimensions\` must be exactly [{"Name":"${def.dimension}","Value":"${EXAMPLE[def.source]}"}] for ${def.namespace}.`);
      return d[0]!.Value;
    });
    const unique = [...new Set(ids)];
    const owned = await ownedResources(ctx.db, def.source, ctx.account.uin, unique);
    const missing = unique.find((id) => !owned.has(id));
    // Another account's resource answers exactly like a missing one.
    if (missing)
      fail('ResourceNotFound', `The ${WHAT[def.source]} \`${missing}\` (\`Instances.${ids.indexOf(missing)}.Dimensions.0.Value\`) does not exist.`);
    const rows = await storedBuckets(ctx.db, def, [...owned.values()], start - (start % period), end);
    const stats = p.SpecifyStatistics ?? 0;
    return {
      Period: period,
      MetricName: def.name,
      StartTime: beijing(start),
      EndTime: beijing(end),
      Msg: '',
      DataPoints: ids.map((id) => {
        const buckets = rows.filter((r) => r.id === owned.get(id));
        const pts = dataPoints(buckets, def, period, start, end);
        return {
          Dimensions: [{ Name: def.dimension, Value: id }],
          Timestamps: pts.Timestamps,
          Values: pts.Values,
          ...(stats & 1 ? { AvgValues: pts.AvgValues } : {}),
          ...(stats & 2 ? { MaxValues: pts.MaxValues } : {}),
          ...(stats & 4 ? { MinValues: pts.MinValues } : {}),
        };
      }),
    };
  },
});

export const monitorActions: readonly ActionDef[] = [describeBaseMetrics, getMonitorData];
