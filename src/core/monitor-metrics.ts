/**
 * The metrics Weft's monitor API serves (Tencent monitor 2018-07-24,
 * GetMonitorData / DescribeBaseMetrics) and how stored 10 s buckets become
 * their data points. Pure.
 *
 * Namespace QCE/CVM, dimension InstanceId, the instance's private-network
 * traffic in Tencent's units: LanOuttraffic/LanIntraffic in Mbps (average bit
 * rate over the period), LanOutpkg/LanInpkg in packets/s; periods 10 and 60 s,
 * from the agents' 10 s buckets. Namespace QCE/NAT_GATEWAY, dimension natId:
 * a NAT gateway's traffic through the gateway nodes, from the flow monitor's
 * per-minute figures (so period 60 only, and only while its flow monitor is on).
 * Namespace QCE/LB, dimension eip (the address): an EIP's traffic through the
 * gateway nodes, from their 10 s buckets; periods 10 and 60 s.
 */
export const BUCKET_SECONDS = 10;
/** How long 10 s buckets are kept (Tencent keeps its finest data about a day). */
export const MONITOR_RETENTION_S = 24 * 3600;
export const PERIODS = [10, 60] as const;
/** Tencent's limit on the data points of one GetMonitorData answer. */
export const MAX_POINTS = 7200;

export type BucketField = 'in_bytes' | 'out_bytes' | 'in_packets' | 'out_packets';
export type NatField = BucketField | 'connections';

export interface MetricDef {
  /** Where the figures come from: the instances' 10 s buckets, or the NAT gateways' flow-monitor minutes. */
  source: 'instance' | 'nat' | 'eip';
  namespace: string;
  name: string;
  cname: string;
  unit: string;
  unitCname: string;
  meaningEn: string;
  meaningZh: string;
  dimension: string;
  field: NatField;
  /** Bytes become megabits per second, packets packets per second; a gauge (connections) is averaged as it is. */
  kind: 'traffic' | 'packets' | 'gauge';
  periods: readonly number[];
  /** Seconds each stored figure covers. */
  bucketSeconds: number;
}

const cvm = (name: string, cname: string, field: BucketField, kind: MetricDef['kind'], meaningEn: string, meaningZh: string): MetricDef => ({
  source: 'instance',
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
  periods: PERIODS,
  bucketSeconds: BUCKET_SECONDS,
});

const nat = (name: string, cname: string, field: NatField, kind: MetricDef['kind'], meaningEn: string, meaningZh: string): MetricDef => ({
  source: 'nat',
  namespace: 'QCE/NAT_GATEWAY',
  name,
  cname,
  unit: kind === 'traffic' ? 'Mbps' : 'Count',
  unitCname: kind === 'traffic' ? 'Mbps' : '个',
  meaningEn,
  meaningZh,
  dimension: 'natId',
  field,
  kind,
  periods: [60],
  bucketSeconds: 60,
});

const eip = (name: string, cname: string, field: BucketField, kind: MetricDef['kind'], meaningEn: string, meaningZh: string): MetricDef => ({
  ...cvm(name, cname, field, kind, meaningEn, meaningZh),
  source: 'eip',
  namespace: 'QCE/LB',
  dimension: 'eip',
});

export const METRICS: readonly MetricDef[] = [
  cvm('LanOuttraffic', '内网出带宽', 'out_bytes', 'traffic', 'Average outbound bandwidth of the private network interface', '内网网卡的平均每秒出流量'),
  cvm('LanIntraffic', '内网入带宽', 'in_bytes', 'traffic', 'Average inbound bandwidth of the private network interface', '内网网卡的平均每秒入流量'),
  cvm('LanOutpkg', '内网出包量', 'out_packets', 'packets', 'Average outbound packets per second of the private network interface', '内网网卡的平均每秒出包量'),
  cvm('LanInpkg', '内网入包量', 'in_packets', 'packets', 'Average inbound packets per second of the private network interface', '内网网卡的平均每秒入包量'),
  nat('OutBandwidth', '外网出带宽', 'out_bytes', 'traffic', 'Outbound bandwidth of the NAT gateway', 'NAT 网关出带宽'),
  nat('InBandwidth', '外网入带宽', 'in_bytes', 'traffic', 'Inbound bandwidth of the NAT gateway', 'NAT 网关入带宽'),
  nat('OutPkg', '外网出包量', 'out_packets', 'packets', 'Average outbound packets per second of the NAT gateway', 'NAT 网关平均每秒出包量'),
  nat('InPkg', '外网入包量', 'in_packets', 'packets', 'Average inbound packets per second of the NAT gateway', 'NAT 网关平均每秒入包量'),
  nat('Conns', '并发连接数', 'connections', 'gauge', 'Concurrent connections of the NAT gateway', 'NAT 网关的实时并发数'),
  eip('VipIntraffic', '入带宽', 'in_bytes', 'traffic', 'Inbound bandwidth of EIP', 'EIP 入带宽'),
  eip('VipOuttraffic', '出带宽', 'out_bytes', 'traffic', 'Outbound bandwidth of EIP', 'EIP 出带宽'),
  eip('VipInpkg', '入包量', 'in_packets', 'packets', 'Inbound packets of EIP', 'EIP 入包量'),
  eip('VipOutpkg', '出包量', 'out_packets', 'packets', 'Outbound packets of EIP', 'EIP 出包量'),
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
 * average rate over the buckets present (a gauge: the average value); max and
 * min are those of the buckets within the period.
 */
export function dataPoints(buckets: readonly Bucket[], def: Pick<MetricDef, 'kind' | 'bucketSeconds'>, period: number, start: number, end: number): Points {
  const per = def.kind === 'gauge' ? 1 : def.bucketSeconds;
  const rate = (sum: number, n: number) => (def.kind === 'traffic' ? (sum * 8) / 1e6 / (n * per) : sum / (n * per));
  const byPeriod = new Map<number, Bucket[]>();
  for (const b of buckets) {
    if (b.at < start - (start % period) || b.at > end) continue;
    const t = b.at - (b.at % period);
    (byPeriod.get(t) ?? byPeriod.set(t, []).get(t)!).push(b);
  }
  const out: Points = { Timestamps: [], Values: [], AvgValues: [], MaxValues: [], MinValues: [] };
  for (const t of [...byPeriod.keys()].sort((a, b) => a - b)) {
    const bs = byPeriod.get(t)!;
    const avg = round(rate(bs.reduce((n, b) => n + b.value, 0), bs.length));
    const each = bs.map((b) => rate(b.value, 1));
    out.Timestamps.push(t);
    out.Values.push(avg);
    out.AvgValues.push(avg);
    out.MaxValues.push(round(Math.max(...each)));
    out.MinValues.push(round(Math.min(...each)));
  }
  return out;
}
