/** The fields of the node selected on the picture; an instance offers itself as a trace's source or destination. */
import { addZh, useT } from '../i18n';
import type { GraphNode } from './graph';

addZh({ 'Trace from here': '从此追踪', 'Trace to here': '追踪到此', 'Open its topology': '打开其拓扑', 'Select a box on the picture to see its fields.': '选择图中的节点查看详情。' });

export function DetailsPanel(p: { node?: GraphNode; onFrom: (id: string) => void; onTo: (id: string) => void }) {
  const t = useT();
  const n = p.node;
  if (!n)
    return (
      <div className="card details" data-testid="topology-details">
        <div className="muted">{t('Select a box on the picture to see its fields.')}</div>
      </div>
    );
  return (
    <div className="card details" data-testid="topology-details" data-node={n.id}>
      <h3>
        {t('Details')}: {n.title}
      </h3>
      <table>
        <tbody>
          {n.fields.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {n.kind === 'instance' && (
        <div className="details-actions">
          <button type="button" onClick={() => p.onFrom(n.id)} data-testid="trace-from-here">
            {t('Trace from here')}
          </button>
          <button type="button" onClick={() => p.onTo(n.id)} data-testid="trace-to-here">
            {t('Trace to here')}
          </button>
        </div>
      )}
      {n.href && (
        <a href={n.href} className="details-link">
          {t('Open its topology')}
        </a>
      )}
    </div>
  );
}
