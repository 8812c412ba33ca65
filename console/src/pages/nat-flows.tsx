/**
 * A NAT gateway's flow monitor and per-address bandwidth caps, shown in its
 * details: the monitor switched on and off (Enable/DisableGatewayFlowMonitor,
 * CheckGatewayFlowMonitor for what it is now), the figures of each private
 * address for one minute (DescribeGatewayFlowMonitorDetail, paged and sorted
 * on the server), and the caps (DescribeGatewayFlowQos, ModifyGatewayFlowQos:
 * Mbps, 0 blocks the addresses, -1 lifts their cap).
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { TextField } from '../pickers';
import { ActionButton, ErrorBox, FormCard, ResourceTable, useApi, usePolled } from '../ui';
import { FieldBox, State } from './edge-common';

addZh({
  'Flow monitor': '流量监控',
  'Minute (UTC)': '时间点（UTC，分钟）',
  'Latest minute': '最近一分钟',
  'Sort by': '排序字段',
  'Descending': '降序',
  'Ascending': '升序',
  'Private address': '内网地址',
  'Out traffic': '出流量',
  'In traffic': '入流量',
  'Out packets': '出包数',
  'In packets': '入包数',
  'Connections': '并发连接数',
  'New connections/s': '新建连接速率',
  'Bandwidth caps': '带宽限速',
  'Set a cap': '设置限速',
  'Bandwidth (Mbps; 0 blocks)': '带宽（Mbps；0 为禁止）',
  'Private addresses (comma-separated)': '内网地址（逗号分隔）',
  'Blocked': '已禁止',
  'Lift cap': '取消限速',
  'The figures are kept only while the monitor is enabled.': '仅在开启流量监控时记录数据。',
  'Exact address…': '完整地址…',
});

/** Flow figures of one private address over a minute. */
interface FlowDetail {
  PrivateIpAddress: string;
  InPkg: number;
  OutPkg: number;
  InTraffic: number;
  OutTraffic: number;
  ConcurrentConnectionCount: number;
  NewConnectionRate: number;
}

interface Qos {
  IpAddress: string;
  Bandwidth: number;
  CreateTime: string;
}

/** DescribeGatewayFlowMonitorDetail's OrderField values. */
const ORDER_FIELDS = ['OutTraffic', 'InTraffic', 'OutPkg', 'InPkg', 'ConcurrentConnectionCount', 'NewConnectionRate'] as const;

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** A time as Tencent's TimePoint writes it, in UTC (as Weft keeps times): `2026-12-03 14:05:00`. */
const timePoint = (ms: number) => new Date(ms - (ms % 60_000)).toISOString().slice(0, 19).replace('T', ' ');
/** The last whole minute: the current one is still being counted. */
const lastMinute = () => timePoint(Date.now() - 60_000);

const bytes = (n: number) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

export function NatFlows({ natId, available }: { natId: string; available: boolean }) {
  return (
    <section className="nat-flows">
      <FlowMonitor natId={natId} available={available} />
      <FlowQos natId={natId} />
    </section>
  );
}

/** Whether the monitor is on, the switch, and one minute's figures per private address. */
function FlowMonitor({ natId, available }: { natId: string; available: boolean }) {
  const api = useApi();
  const t = useT();
  const { value, error, reload } = usePolled(() => api.call<{ Enabled: boolean; Bandwidth: number }>('vpc', 'CheckGatewayFlowMonitor', { GatewayId: natId }), [natId]);
  // Empty: follow the last whole minute as time goes on; otherwise the minute typed.
  const [minute, setMinute] = useState('');
  const [typed, setTyped] = useState('');
  const [order, setOrder] = useState<string>('OutTraffic');
  const [direction, setDirection] = useState('DESC');
  const enabled = value?.Enabled;
  return (
    <>
      <h4>{t('Flow monitor')}</h4>
      <div className="toolbar" data-testid="nat-flow-monitor-state">
        {value && <State state={enabled ? 'ENABLED' : 'DISABLED'} />}
        {value && available && (
          <ActionButton
            label={enabled ? 'Disable' : 'Enable'}
            testId={enabled ? 'disable-flow-monitor' : 'enable-flow-monitor'}
            run={() => api.call('vpc', enabled ? 'DisableGatewayFlowMonitor' : 'EnableGatewayFlowMonitor', { GatewayId: natId })}
            onDone={reload}
          />
        )}
        <span className="muted">{t('The figures are kept only while the monitor is enabled.')}</span>
        <ErrorBox error={error} />
      </div>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setMinute(typed.trim());
        }}
      >
        <FieldBox label="Minute (UTC)">
          <input name="TimePoint" placeholder={lastMinute()} value={typed} onChange={(e) => setTyped(e.target.value)} />
        </FieldBox>
        <button type="submit">{t('Search')}</button>
        <button type="button" onClick={() => (setTyped(''), setMinute(''))}>
          {t('Latest minute')}
        </button>
        <FieldBox label="Sort by">
          <select value={order} onChange={(e) => setOrder(e.target.value)} aria-label="OrderField">
            {ORDER_FIELDS.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </FieldBox>
        <select value={direction} onChange={(e) => setDirection(e.target.value)} aria-label="OrderDirection">
          <option value="DESC">{t('Descending')}</option>
          <option value="ASC">{t('Ascending')}</option>
        </select>
      </form>
      <ResourceTable<FlowDetail>
        testId="nat-flow-monitor"
        deps={[natId, minute, order, direction]}
        rowKey={(r) => r.PrivateIpAddress}
        searchPlaceholder="Exact address…"
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ GatewayFlowMonitorDetailSet: FlowDetail[]; TotalCount: number }>('vpc', 'DescribeGatewayFlowMonitorDetail', {
            TimePoint: minute || lastMinute(),
            NatId: natId,
            Offset,
            Limit,
            OrderField: order,
            OrderDirection: direction,
            PrivateIpAddress: search || undefined,
          });
          return { rows: r.GatewayFlowMonitorDetailSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'Private address', render: (r) => r.PrivateIpAddress },
          { title: 'Out traffic', render: (r) => bytes(r.OutTraffic) },
          { title: 'In traffic', render: (r) => bytes(r.InTraffic) },
          { title: 'Out packets', render: (r) => r.OutPkg },
          { title: 'In packets', render: (r) => r.InPkg },
          { title: 'Connections', render: (r) => r.ConcurrentConnectionCount },
          { title: 'New connections/s', render: (r) => r.NewConnectionRate },
        ]}
      />
    </>
  );
}

/** The per-address caps and a form to set one (0 blocks; a row's button lifts it). */
function FlowQos({ natId }: { natId: string }) {
  const api = useApi();
  const t = useT();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  return (
    <>
      <h4>{t('Bandwidth caps')}</h4>
      <FormCard
        testId="nat-flow-qos"
        title="Set a cap"
        submitLabel="Save"
        submit={(v) => api.call('vpc', 'ModifyGatewayFlowQos', { GatewayId: natId, Bandwidth: Number(v.Bandwidth), IpAddresses: list(v.IpAddresses ?? '') })}
        onDone={bump}
      >
        <TextField name="Bandwidth" label="Bandwidth (Mbps; 0 blocks)" placeholder="10" />
        <TextField name="IpAddresses" label="Private addresses (comma-separated)" placeholder="10.0.1.4, 10.0.1.5" />
      </FormCard>
      <ResourceTable<Qos>
        testId="nat-flow-qos-caps"
        deps={[natId, version]}
        rowKey={(r) => r.IpAddress}
        searchPlaceholder="Exact address…"
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ GatewayQosSet: Qos[]; TotalCount: number }>('vpc', 'DescribeGatewayFlowQos', {
            GatewayId: natId,
            Offset,
            Limit,
            IpAddresses: search ? [search] : undefined,
          });
          return { rows: r.GatewayQosSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'Private address', render: (r) => r.IpAddress },
          { title: 'Bandwidth (Mbps)', render: (r) => (r.Bandwidth === 0 ? <span className="state-BLOCKED">{t('Blocked')}</span> : r.Bandwidth) },
          { title: 'Created', render: (r) => r.CreateTime },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Lift cap"
                testId={`lift-qos-${r.IpAddress}`}
                run={() => api.call('vpc', 'ModifyGatewayFlowQos', { GatewayId: natId, Bandwidth: -1, IpAddresses: [r.IpAddress] })}
                onDone={bump}
              />
            ),
          },
        ]}
      />
    </>
  );
}
