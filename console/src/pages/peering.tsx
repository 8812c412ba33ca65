/**
 * Peering connections: the list (both sides see a connection), create one
 * towards a VPC of this or another account, accept or reject a request from
 * another account, delete.
 *
 * The API says who the caller is nowhere, so the page tells requests it made
 * from requests it received by asking which of the listed source VPCs are the
 * caller's own (one DescribeVpcs with a vpc-id filter per page): only a
 * request whose source VPC is someone else's can be accepted or rejected
 * here. The same answer gives the caller's UIN, offered as DestinationUin
 * when peering two of one's own VPCs.
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { StateText, TextField, VpcSelect } from '../pickers';
import { ActionButton, FormCard, nameFilter, ResourceTable, useApi } from '../ui';

addZh({
  'Create peering connection': '新建对等连接',
  'Peering name': '对等连接名称',
  'Source VPC': '本端私有网络',
  'Destination VPC': '对端私有网络',
  'Destination account (UIN)': '对端账号（UIN）',
  'Destination region': '对端地域',
  'Accept': '接受',
  'Reject': '拒绝',
  'Requested by another account': '来自其他账号的申请',
});

interface Peering {
  PeeringConnectionId: string;
  PeeringConnectionName: string;
  SourceVpcId: string;
  DestinationVpcId: string;
  SourceUin: number;
  DestinationUin: number;
  State: string;
  CreateTime: string;
}
/** A row and whether the caller is its receiving side (the source VPC is not theirs). */
interface Row extends Peering {
  incoming: boolean;
}

export function PeeringPage() {
  const api = useApi();
  const t = useT();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const [myUin, setMyUin] = useState('');
  const region = api.credentials.region;

  /** Which of these VPCs are the caller's. */
  const ownVpcs = async (ids: string[]): Promise<Set<string>> => {
    if (!ids.length) return new Set();
    const r = await api.call<{ VpcSet: { VpcId: string }[] }>('vpc', 'DescribeVpcs', { Limit: '100', Filters: [{ Name: 'vpc-id', Values: ids }] });
    return new Set(r.VpcSet.map((v) => v.VpcId));
  };

  return (
    <div className="page">
      <FormCard
        testId="create-peering"
        title="Create peering connection"
        submit={(v) => api.call('vpc', 'CreateVpcPeeringConnection', { ...v, DestinationRegion: region })}
        onDone={bump}
      >
        <VpcSelect name="SourceVpcId" label="Source VPC" />
        <TextField name="DestinationVpcId" label="Destination VPC" placeholder="vpc-…" />
        <TextField key={myUin} name="DestinationUin" label="Destination account (UIN)" defaultValue={myUin} placeholder="100000000001" />
        <label>
          <span>{t('Destination region')}</span>
          <input value={region} readOnly className="readonly" />
        </label>
        <TextField name="PeeringConnectionName" label="Peering name" placeholder="a-to-b" />
      </FormCard>
      <ResourceTable<Row>
        testId="peering"
        deps={[version]}
        rowKey={(r) => r.PeeringConnectionId}
        searchPlaceholder="Name or ID…"
        load={async (Offset, Limit, search) => {
          // No filter takes an ID: a whole pcx- ID goes as PeeringConnectionIds, other text as the name filter.
          const byId = /^pcx-[0-9a-z]{8}$/.test(search);
          const r = await api.call<{ PeerConnectionSet: Peering[]; TotalCount: number }>('vpc', 'DescribeVpcPeeringConnections', {
            Offset,
            Limit,
            ...(byId ? { PeeringConnectionIds: [search] } : { Filters: nameFilter('peering-connection-name', search) }),
          });
          const mine = await ownVpcs([...new Set(r.PeerConnectionSet.map((p) => p.SourceVpcId))]);
          const first = r.PeerConnectionSet[0];
          if (first && !myUin) setMyUin(String(mine.has(first.SourceVpcId) ? first.SourceUin : first.DestinationUin));
          return { rows: r.PeerConnectionSet.map((p) => ({ ...p, incoming: !mine.has(p.SourceVpcId) })), total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.PeeringConnectionId },
          { title: 'Name', render: (r) => r.PeeringConnectionName },
          { title: 'Source VPC', render: (r) => `${r.SourceVpcId} (${r.SourceUin})` },
          { title: 'Destination VPC', render: (r) => `${r.DestinationVpcId} (${r.DestinationUin})` },
          {
            title: 'State',
            render: (r) => (
              <>
                <StateText state={r.State} />
                {r.incoming && r.State === 'PENDING' && <div className="muted">{t('Requested by another account')}</div>}
              </>
            ),
          },
          { title: 'Created', render: (r) => r.CreateTime },
          {
            title: '',
            render: (r) => {
              const id = { PeeringConnectionId: r.PeeringConnectionId };
              return (
                <span className="row-actions">
                  {r.incoming && r.State === 'PENDING' && (
                    <>
                      <ActionButton label="Accept" testId={`accept-${r.PeeringConnectionId}`} run={() => api.call('vpc', 'AcceptVpcPeeringConnection', id)} onDone={bump} />
                      <ActionButton label="Reject" testId={`reject-${r.PeeringConnectionId}`} run={() => api.call('vpc', 'RejectVpcPeeringConnection', id)} onDone={bump} />
                    </>
                  )}
                  <ActionButton label="Delete" testId={`delete-${r.PeeringConnectionId}`} run={() => api.call('vpc', 'DeleteVpcPeeringConnection', id)} onDone={bump} />
                </span>
              );
            },
          },
        ]}
      />
    </div>
  );
}
