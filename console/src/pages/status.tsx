/**
 * Region status (DescribeRegionStatus, a Weft extension; `weft status` in the
 * browser): the controller, the store, and every host, gateway and LB node
 * with its agent's connection, the revision compiled for it against the one
 * it applied, its last audit, drift found and repaired, and the underlay
 * (loss and round trip to each peer it probes). Only the region's admin
 * account may call it: any other gets UnauthorizedOperation, shown as the
 * API says it.
 */
import { Fragment, useState } from 'react';
import { addZh, useT } from '../i18n';
import { ErrorBox, useApi, usePolled } from '../ui';
import { State } from './edge-common';

addZh({
  'Controller': '控制器',
  'Store': '存储',
  'Hosts': '主机',
  'Host': '主机',
  'Role': '角色',
  'Zone': '可用区',
  'Agent': '代理',
  'Revision': '版本',
  'Applied': '已应用',
  'Last audit': '最近审计',
  'Drift found / repaired': '发现/修复漂移',
  'Underlay': '底层网络',
  'Connected': '已连接',
  'Gone': '已断开',
  'never': '从未',
  'behind': '落后',
  'Up': '运行中',
  'Down': '已停止',
  'loss': '丢包',
  'Recent drift': '最近漂移',
  'No peers probed': '未探测对端',
});

interface Link {
  To: string;
  LossRate: number;
  RttMs: number | null;
  At: string;
}

interface Host {
  Name: string;
  Role: string;
  Zone: string;
  UnderlayAddress: string;
  Connected: boolean;
  Revision: number | null;
  AppliedRevision: number;
  InSync: boolean;
  ReportedAt: string | null;
  ApplyError: string | null;
  LastAudit: string | null;
  Audit: { Ok?: boolean } | null;
  DriftFound: number;
  DriftRepairs: number;
  RecentDrift: Record<string, unknown>[];
  Underlay: Link[];
}

interface RegionStatus {
  Controller: { Up: boolean; Pid: number | null; Address: string | null };
  Store: { Engine: string; Revision: number };
  Hosts: Host[];
}

const ago = (iso: string | null) => {
  if (!iso) return null;
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : iso;
};

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

export function StatusPage() {
  const api = useApi();
  const t = useT();
  const [open, setOpen] = useState<string>();
  const { value, error } = usePolled(() => api.call<RegionStatus>('vpc', 'DescribeRegionStatus', { RecentDriftLimit: 5 }), [], 5000);
  if (error && !value) return <ErrorBox error={error} />;
  if (!value) return <p className="muted">{t('Loading…')}</p>;
  const c = value.Controller;
  return (
    <div className="page" data-testid="region-status">
      <ErrorBox error={error} />
      <div className="row">
        <div className="card stat" data-testid="controller">
          <h3>{t('Controller')}</h3>
          <State state={c.Up ? 'UP' : 'DOWN'} />
          <div className="muted">
            {c.Pid ? `pid ${c.Pid}` : ''} {c.Address ?? ''}
          </div>
        </div>
        <div className="card stat" data-testid="store">
          <h3>{t('Store')}</h3>
          <div>{value.Store.Engine}</div>
          <div className="muted">
            {t('Revision')} {value.Store.Revision}
          </div>
        </div>
        <div className="card stat">
          <h3>{t('Hosts')}</h3>
          <div>
            {value.Hosts.filter((h) => h.Connected).length} / {value.Hosts.length} {t('Connected').toLowerCase()}
          </div>
          <div className="muted">{value.Hosts.filter((h) => !h.InSync).length} {t('behind')}</div>
        </div>
      </div>
      <div className="table" data-testid="hosts">
        <table>
          <thead>
            <tr>
              {['Host', 'Role', 'Zone', 'Agent', 'Revision', 'Applied', 'Last audit', 'Drift found / repaired', 'Underlay'].map((h) => (
                <th key={h}>{t(h)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {value.Hosts.map((h) => (
              <Fragment key={h.Name}>
                <tr data-row={h.Name} className="clickable" onClick={() => setOpen(open === h.Name ? undefined : h.Name)}>
                  <td>
                    {h.Name}
                    <div className="muted">{h.UnderlayAddress}</div>
                  </td>
                  <td>{h.Role}</td>
                  <td>{h.Zone}</td>
                  <td>
                    <State state={h.Connected ? 'CONNECTED' : 'GONE'} />
                  </td>
                  <td>{h.Revision ?? '—'}</td>
                  <td>
                    <span className={h.InSync ? 'state-INSYNC' : 'state-BEHIND'}>{h.AppliedRevision}</span>
                    {!h.InSync && <span className="muted"> ({t('behind')})</span>}
                    {h.ApplyError && <div className="error">{h.ApplyError}</div>}
                  </td>
                  <td>
                    {ago(h.LastAudit) ?? t('never')}
                    {h.Audit && h.Audit.Ok === false && <span className="state-FAILED"> failed</span>}
                  </td>
                  <td>
                    {h.DriftFound} / {h.DriftRepairs}
                  </td>
                  <td>
                    <UnderlaySummary links={h.Underlay} />
                  </td>
                </tr>
                {open === h.Name && (
                  <tr className="host-more">
                    <td colSpan={9}>
                      <HostMore host={h} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The worst link of a host (most loss, then slowest): what an operator looks for first. */
function UnderlaySummary({ links }: { links: Link[] }) {
  const t = useT();
  if (!links.length) return <span className="muted">{t('No peers probed')}</span>;
  const worst = [...links].sort((a, b) => b.LossRate - a.LossRate || (b.RttMs ?? Infinity) - (a.RttMs ?? Infinity))[0]!;
  return (
    <span className={worst.LossRate > 0 ? 'state-DEGRADED' : undefined}>
      {links.length} · {worst.To} {pct(worst.LossRate)} {t('loss')}
      {worst.RttMs !== null ? ` ${worst.RttMs.toFixed(2)} ms` : ''}
    </span>
  );
}

/** Every underlay link of a host and its recent drift. */
function HostMore({ host }: { host: Host }) {
  const t = useT();
  return (
    <div className="row">
      <table className="compact" data-testid={`underlay-${host.Name}`}>
        <thead>
          <tr>
            <th>{t('Underlay')}</th>
            <th>{t('loss')}</th>
            <th>RTT</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {host.Underlay.map((l) => (
            <tr key={l.To}>
              <td>{l.To}</td>
              <td>{pct(l.LossRate)}</td>
              <td>{l.RttMs === null ? '—' : `${l.RttMs.toFixed(2)} ms`}</td>
              <td className="muted">{ago(l.At)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div>
        <strong>{t('Recent drift')}</strong>
        {host.RecentDrift.length ? (
          <pre className="drift">{host.RecentDrift.map((d) => JSON.stringify(d)).join('\n')}</pre>
        ) : (
          <p className="muted">—</p>
        )}
      </div>
    </div>
  );
}
