/**
 * Metrics: choose a namespace, a metric (DescribeBaseMetrics: name, unit,
 * periods) and the resource it is measured on, then GetMonitorData draws the
 * figures of the chosen range as a line chart (charts.tsx), re-read every
 * 10 s. The figures come from the agents' counters (10 s buckets for
 * instances and EIPs, per minute for NAT gateways): a data plane that
 * forwards nothing (sim) has none, and the chart says so.
 */
import { useState } from 'react';
import { LineChart } from '../charts';
import { addZh, useT } from '../i18n';
import { ErrorBox, useApi, usePolled } from '../ui';
import { FieldBox, IdInput } from './edge-common';

addZh({
  'Namespace': '命名空间',
  'Metric': '指标',
  'Period': '统计周期',
  'Range': '时间范围',
  'Show': '查看',
  'Last 15 minutes': '最近15分钟',
  'Last hour': '最近1小时',
  'Last 6 hours': '最近6小时',
  'Last 24 hours': '最近24小时',
  'Resource': '资源',
  'EIP address': 'EIP 地址',
  'Choose a metric and a resource, then Show.': '选择指标和资源，然后点击查看。',
});

interface MetricDef {
  MetricName: string;
  MetricCName: string;
  Unit: string;
  Period: number[];
  Meaning: { En: string; Zh: string };
  Dimensions: { Dimensions: string[] }[];
}

const NAMESPACES = ['QCE/CVM', 'QCE/NAT_GATEWAY', 'QCE/LB'];
const RANGES: [string, number][] = [
  ['Last 15 minutes', 900],
  ['Last hour', 3600],
  ['Last 6 hours', 6 * 3600],
  ['Last 24 hours', 24 * 3600],
];

interface Query {
  namespace: string;
  metric: MetricDef;
  dimension: string;
  resource: string;
  period: number;
  range: number;
}

export function MetricsPage() {
  const api = useApi();
  const t = useT();
  const [namespace, setNamespace] = useState(NAMESPACES[0]!);
  const [metricName, setMetricName] = useState<string>();
  const [query, setQuery] = useState<Query>();
  const metrics = usePolled(
    () => api.call<{ MetricSet: MetricDef[] }>('monitor', 'DescribeBaseMetrics', { Namespace: namespace }).then((r) => r.MetricSet),
    [namespace],
    0,
  );
  const metric = metrics.value?.find((m) => m.MetricName === metricName) ?? metrics.value?.[0];
  const dimension = metric?.Dimensions[0]?.Dimensions[0] ?? 'InstanceId';
  return (
    <div className="page">
      <form
        className="card form"
        data-testid="metrics-query"
        onSubmit={(e) => {
          e.preventDefault();
          const d = new FormData(e.currentTarget);
          if (!metric) return;
          setQuery({ namespace, metric, dimension, resource: String(d.get('resource')).trim(), period: Number(d.get('Period')), range: Number(d.get('range')) });
        }}
      >
        <FieldBox label="Namespace">
          <select name="Namespace" value={namespace} onChange={(e) => (setNamespace(e.target.value), setMetricName(undefined))}>
            {NAMESPACES.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </FieldBox>
        <FieldBox label="Metric">
          <select name="MetricName" value={metric?.MetricName ?? ''} onChange={(e) => setMetricName(e.target.value)}>
            {metrics.value?.map((m) => (
              <option key={m.MetricName} value={m.MetricName}>
                {m.MetricName} ({m.Unit})
              </option>
            ))}
          </select>
        </FieldBox>
        <FieldBox label="Resource">
          {dimension === 'InstanceId' ? (
            <IdInput key="ins" name="resource" kind="instance" placeholder="ins-…" />
          ) : dimension === 'natId' ? (
            <IdInput key="nat" name="resource" kind="nat" placeholder="nat-…" />
          ) : (
            <input key="eip" name="resource" placeholder={t('EIP address')} />
          )}
        </FieldBox>
        <FieldBox label="Period">
          <select name="Period" key={metric?.MetricName}>
            {metric?.Period.map((p) => (
              <option key={p} value={p}>
                {p} s
              </option>
            ))}
          </select>
        </FieldBox>
        <FieldBox label="Range">
          <select name="range" defaultValue="3600">
            {RANGES.map(([label, s]) => (
              <option key={s} value={s}>
                {t(label)}
              </option>
            ))}
          </select>
        </FieldBox>
        <ErrorBox error={metrics.error} />
        <button type="submit" disabled={!metric}>
          {t('Show')}
        </button>
      </form>
      {metric && <p className="muted">{metric.Meaning.En}</p>}
      {query ? <MetricChart q={query} /> : <p className="muted">{t('Choose a metric and a resource, then Show.')}</p>}
    </div>
  );
}

interface MonitorData {
  Period: number;
  DataPoints: { Dimensions: { Name: string; Value: string }[]; Timestamps: number[]; Values: (number | null)[] }[];
}

/** The figures of one query, re-read every 10 s (the range moves with the clock); the API's error shows in place of the chart. */
function MetricChart({ q }: { q: Query }) {
  const api = useApi();
  const { value, error } = usePolled(
    () => {
      const end = Math.floor(Date.now() / 1000);
      return api.call<MonitorData>('monitor', 'GetMonitorData', {
        Namespace: q.namespace,
        MetricName: q.metric.MetricName,
        Period: q.period,
        StartTime: new Date((end - q.range) * 1000).toISOString(),
        EndTime: new Date(end * 1000).toISOString(),
        Instances: [{ Dimensions: [{ Name: q.dimension, Value: q.resource }] }],
      });
    },
    [q],
    10_000,
  );
  return (
    <section className="card" data-testid="metrics-result">
      <h3>
        {q.metric.MetricName} · {q.resource}
      </h3>
      <ErrorBox error={error} />
      {value && (
        <LineChart
          unit={q.metric.Unit}
          maxGap={value.Period * 1.5}
          series={value.DataPoints.map((d) => ({ name: d.Dimensions[0]?.Value ?? '', times: d.Timestamps, values: d.Values }))}
        />
      )}
    </section>
  );
}
