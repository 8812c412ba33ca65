/**
 * The reachability heat map (vpc DescribeVpcReachability): every instance of
 * the VPC against every other for one protocol and port. A cell is green when
 * a new packet is delivered, red otherwise, grey on the diagonal; its title
 * is the tracer's code. A cell is a question one click away from its answer:
 * clicking it traces that pair on the picture.
 */
import { addZh, useT } from '../i18n';

addZh({ 'pairs delivered': '对可达', from: '源', to: '目的' });

export interface Reach {
  VpcId: string;
  Protocol: string;
  Port?: number;
  InstanceSet: { InstanceId: string; PrivateIpAddress: string; SubnetId: string; HostId: string }[];
  Matrix: string[][];
  PairCount: number;
  ReachableCount: number;
  UnplacedInstanceIds: string[];
}

const cellSize = (n: number) => (n <= 12 ? 28 : n <= 30 ? 20 : n <= 80 ? 15 : 10);
const cellClass = (code: string, self: boolean) => (self ? 'reach-self' : code === 'delivered' ? 'reach-ok' : 'reach-bad');

export function ReachabilityMatrix(p: { reach: Reach; names: Map<string, string>; onPick: (from: string, to: string) => void; picked?: [string, string] }) {
  const t = useT();
  const { reach } = p;
  const name = (id: string) => p.names.get(id) || id;
  return (
    <div className="card reach-card">
      <div className="muted">
        {reach.Protocol}
        {reach.Port !== undefined ? ` ${reach.Port}` : ''} · {reach.ReachableCount} / {reach.PairCount} {t('pairs delivered')}
        {reach.UnplacedInstanceIds.length ? ` · not placed: ${reach.UnplacedInstanceIds.join(', ')}` : ''}
      </div>
      <div className="reach-scroll">
        {/* Cells as large as the matrix allows: a few instances get big targets, hundreds still fit. */}
        <table className="reach" data-testid="reachability" style={{ ['--cell' as string]: `${cellSize(reach.InstanceSet.length)}px` }}>
          <thead>
            <tr>
              <th className="reach-corner">
                {t('from')} ↓ {t('to')} →
              </th>
              {reach.InstanceSet.map((c) => (
                <th key={c.InstanceId} className="reach-col" title={`${c.InstanceId} ${c.PrivateIpAddress} ${c.HostId}`}>
                  <span>{name(c.InstanceId)}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {reach.InstanceSet.map((r, i) => (
              <tr key={r.InstanceId}>
                <th className="reach-row" title={`${r.InstanceId} ${r.PrivateIpAddress} ${r.HostId}`}>
                  {name(r.InstanceId)}
                </th>
                {reach.InstanceSet.map((c, j) => {
                  const code = reach.Matrix[i]?.[j] ?? '';
                  const self = i === j;
                  const picked = p.picked?.[0] === r.InstanceId && p.picked?.[1] === c.InstanceId;
                  return (
                    <td
                      key={c.InstanceId}
                      className={`reach-cell ${cellClass(code, self)}${picked ? ' reach-picked' : ''}`}
                      data-from={r.InstanceId}
                      data-to={c.InstanceId}
                      data-code={code}
                      title={code}
                      aria-label={`${name(r.InstanceId)} → ${name(c.InstanceId)}: ${code}`}
                      onClick={self ? undefined : () => p.onPick(r.InstanceId, c.InstanceId)}
                    />
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
