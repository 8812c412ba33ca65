/**
 * Topology (#/topology/<vpcId>): a VPC drawn as a graph with the packet
 * tracer on it. Without an ID, a VPC picker. The drawing itself (and its
 * graph libraries) is a separate chunk, loaded when a VPC is opened.
 */
import { lazy, Suspense } from 'react';
import { addZh, useT } from '../i18n';
import { ResourceTable, useApi } from '../ui';
import { vpcPage, type Vpc } from './vpcs';

addZh({ 'Choose a VPC to draw': '选择要绘制的私有网络', Open: '打开' });

const TopologyView = lazy(() => import('../topology/TopologyView'));

function VpcPicker() {
  const api = useApi();
  const t = useT();
  return (
    <div className="page">
      <p className="muted">{t('Choose a VPC to draw')}</p>
      <ResourceTable<Vpc>
        testId="topology-vpcs"
        rowKey={(r) => r.VpcId}
        searchPlaceholder="Name contains…"
        onSelect={(r) => (location.hash = `#/topology/${r.VpcId}`)}
        load={(Offset, Limit, search) => vpcPage(api, Offset, Limit, search)}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/topology/${r.VpcId}`}>{r.VpcId}</a> },
          { title: 'Name', render: (r) => r.VpcName },
          { title: 'CIDR', render: (r) => r.CidrBlock },
        ]}
      />
    </div>
  );
}

export function TopologyPage({ params }: { params: string[] }) {
  const t = useT();
  const vpcId = params[0];
  if (!vpcId) return <VpcPicker />;
  return (
    <Suspense fallback={<div className="muted">{t('Loading…')}</div>}>
      {/* Keyed by VPC: another VPC starts afresh (its own layout, trace and matrix). */}
      <TopologyView key={vpcId} vpcId={vpcId} />
    </Suspense>
  );
}
