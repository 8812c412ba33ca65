/**
 * The metrics Weft's monitor API serves (Tencent monitor 2018-07-24,
 * GetMonitorData / DescribeBaseMetrics) and how stored 10 s buckets become
 * their data points. Pure.
 *
 * Namespace QCE/CVM, dimension InstanceId, the instance's private-network
 * traffic in Tencent's units: LanOuttraffic/LanIntraffic in Mbps (average bit
 * rate over the period), LanOutpkg/LanInpkg in packets/s. Periods 10 and 60 s.
 */
export const BUCKET_SECONDS = 10;
/** How long 10 s buckets are kept (Tencent keeps its finest data about a day). */
export const MONITOR_RETENTION_S = 24 * 3600;
export const PERIODS = [10, 60] as const;
/** Tencent's limit on the data points of one GetMonitorData answer. */
export const MAX_POINTS = 7200;

export type BucketField = 'in_bytes' | 'out_bytes' | 'in_packets' | 'out_packets';

export interface MetricDef {
  namespace: string;
  name: string;
  cname: string;
  unit: string;
  unitCname: string;
  meaningEn: string;
  meaningZh: string;
  dimension: string;
  field: BucketField;
  /** Bytes become megabits; packets stay packets. */
  kind: 'traffic' | 'packets';
}

const cvm = (name: string, cname: string, field: BucketField, kind: MetricDef['kind'], meaningEn: string, meaningZh: string): MetricDef => ({
  namespace: 'QCE/CVM',
  name,
  cname,
  unit: kind === 'traffic' ? 'Mbps' : 'Packets/s',
  unitCname: kind === 'traffic' ? 'Mbps' : '个/秒',
  meaningEn,
  meaningZh,
  dimension: 'InstanceId',
  field,
  kind,
});

export const METRICS: readonly MetricDef[] = [
  cvm('LanOuttraffic', '内网出带宽', 'out_bytes', 'traffic', 'Average outbound bandwidth of the private network interface', '内网网卡的平均每秒出流量'),
  cvm('LanIntraffic', '内网入带宽', 'in_bytes', 'traffic', 'Average inbound bandwidth of the private network interface', '内网网卡的平均每秒入流量'),
  cvm('LanOutpkg', '内网出包量', 'out_packets', 'packets', 'Average outbound packets per second of the private network interface', '内网网卡的平均每秒出包量'),
  cvm('LanInpkg', '内网入包量', 'in_packets', 'packets', 'Average inbound packets per second of the private network interface', '内网网卡的平均每秒入包量'),
];

export const NAMESPACES = [...new Set(METRICS.map((m) => m.namespace))];

export const metricOf = (namespace: string, name: string) => METRICS.find((m) => m.namespace === namespace && m.name === name);

export interface Bucket {
  /** Bucket start, Unix seconds. */
  at: number;
  value: number;
}

export interface Points {
  Timestamps: number[];
  Values: number[];
  AvgValues: number[];
  MaxValues: number[];
  MinValues: number[];
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Data points of one instance: one per period that has any bucket between
 * `start` and `end` (Unix seconds, periods aligned to multiples of the
 * period, as Tencent's timestamps are); a period without data has no point
 * (Tencent: "missing timestamps have no data point"). The value is the
 * average rate over the buckets present; max and min are those of the 10 s
 * rates within the period.
 */
export function dataPoints(buckets: readonly Bucket[], def: Pick<MetricDef, 'kind'>, period: number, start: number, end: number): Points {
  const rate = (sum: number, seconds: number) => (def.kind === 'traffic' ? (sum * 8) / 1e6 / seconds : sum / seconds);
  const byPeriod = new Map<number, Bucket[]>();
  for (const b of buckets) {
    if (b.at < start - (start % period) || b.at > end) continue;
    const t = b.at - (b.at % period);
    (byPeriod.get(t) ?? byPeriod.set(t, []).get(t)!).push(b);
  }
  const out: Points = { Timestamps: [], Values: [], AvgValues: [], MaxValues: [], MinValues: [] };
  for (const t of [...byPeriod.keys()].sort((a, b) => a - b)) {
    const bs = byPeriod.get(t)!;
    const avg = round(rate(bs.reduce((n, b) => n + b.value, 0), bs.length * BUCKET_SECONDS));
    const each = bs.map((b) => rate(b.value, BUCKET_SECONDS));
    out.Timestamps.push(t);
    out.Values.push(avg);
    out.AvgValues.push(avg);
    out.MaxValues.push(round(Math.max(...each)));
    out.MinValues.push(round(Math.min(...each)));
  }
  return out;
}
