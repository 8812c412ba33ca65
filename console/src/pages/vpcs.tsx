/** VPCs: the list (paged and filtered on the server), create, delete. */
import { useState } from 'react';
import { addZh } from '../i18n';
import type { Api } from '../api';
import { ActionButton, ActionForm, nameFilter, ResourceTable, useApi, type Page } from '../ui';

addZh({ 'Create VPC': '新建私有网络', 'CIDR block': 'CIDR', CIDR: 'CIDR', 'Name contains…': '名称包含…' });

export interface Vpc {
  VpcId: string;
  VpcName: string;
  CidrBlock: string;
  CreatedTime: string;
}

/** One page of the caller's VPCs, the name filter applied on the server (the VPC list and the topology's picker). */
export async function vpcPage(api: Api, Offset: number, Limit: number, search: string): Promise<Page<Vpc>> {
  const r = await api.call<{ VpcSet: Vpc[]; TotalCount: number }>('vpc', 'DescribeVpcs', { Offset: String(Offset), Limit: String(Limit), Filters: nameFilter('vpc-name', search) });
  return { rows: r.VpcSet, total: r.TotalCount };
}

export function VpcsPage() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <ActionForm
        testId="create-vpc"
        title="Create VPC"
        fields={[
          { name: 'VpcName', label: 'Name', placeholder: 'my-vpc' },
          { name: 'CidrBlock', label: 'CIDR block', placeholder: '10.0.0.0/16' },
        ]}
        submit={(v) => api.call('vpc', 'CreateVpc', v)}
        onDone={bump}
      />
      <ResourceTable<Vpc>
        testId="vpcs"
        deps={[version]}
        rowKey={(r) => r.VpcId}
        searchPlaceholder="Name contains…"
        load={(Offset, Limit, search) => vpcPage(api, Offset, Limit, search)}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/topology/${r.VpcId}`}>{r.VpcId}</a> },
          { title: 'Name', render: (r) => r.VpcName },
          { title: 'CIDR', render: (r) => r.CidrBlock },
          { title: 'Created', render: (r) => r.CreatedTime },
          { title: '', render: (r) => <ActionButton label="Delete" testId={`delete-${r.VpcId}`} run={() => api.call('vpc', 'DeleteVpc', { VpcId: r.VpcId })} onDone={bump} /> },
        ]}
      />
    </div>
  );
}
