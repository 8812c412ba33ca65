/** Subnets: the list (paged and filtered on the server, optionally to one VPC), create, delete. */
import { useState } from 'react';
import { addZh } from '../i18n';
import { filtersOrNone, searchFilters, TextField, VpcSelect, ZoneSelect } from '../pickers';
import { ActionButton, FormCard, ResourceTable, useApi } from '../ui';

addZh({
  'Create subnet': '新建子网',
  'Subnet': '子网',
  'Subnet name': '子网名称',
  'Zone': '可用区',
  'VPC': '私有网络',
  'CIDR block': 'CIDR',
  'CIDR': 'CIDR',
  'Route table': '路由表',
  'Network ACL': '网络ACL',
  'Free IPs': '可用IP',
  'All VPCs': '全部私有网络',
  'Only VPC': '仅显示私有网络',
  'Name contains…': '名称包含…',
  'Name or ID…': '名称或ID…',
});

export interface Subnet {
  SubnetId: string;
  SubnetName: string;
  VpcId: string;
  CidrBlock: string;
  Zone: string;
  RouteTableId: string;
  NetworkAclId: string;
  AvailableIpAddressCount: number;
  CreatedTime: string;
}

export function SubnetsPage() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  // The list's VPC filter (DescribeSubnets vpc-id); empty: every VPC.
  const [vpcFilter, setVpcFilter] = useState('');
  return (
    <div className="page">
      <FormCard testId="create-subnet" title="Create subnet" submit={(v) => api.call('vpc', 'CreateSubnet', v)} onDone={bump}>
        <VpcSelect />
        <TextField name="SubnetName" label="Subnet name" placeholder="my-subnet" />
        <TextField name="CidrBlock" label="CIDR block" placeholder="10.0.1.0/24" />
        <ZoneSelect />
      </FormCard>
      <div className="filterbar">
        <VpcSelect name="vpc-filter" label="Only VPC" none="All VPCs" value={vpcFilter} onChange={setVpcFilter} />
      </div>
      <ResourceTable<Subnet>
        testId="subnets"
        deps={[version, vpcFilter]}
        rowKey={(r) => r.SubnetId}
        searchPlaceholder="Name or ID…"
        load={async (Offset, Limit, search) => {
          const filters = [...(vpcFilter ? [{ Name: 'vpc-id', Values: [vpcFilter] }] : []), ...searchFilters(search, 'subnet', 'subnet-id', 'subnet-name')];
          const r = await api.call<{ SubnetSet: Subnet[]; TotalCount: number }>('vpc', 'DescribeSubnets', {
            Offset: String(Offset),
            Limit: String(Limit),
            Filters: filtersOrNone(filters),
          });
          return { rows: r.SubnetSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.SubnetId },
          { title: 'Name', render: (r) => r.SubnetName },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'CIDR', render: (r) => r.CidrBlock },
          { title: 'Zone', render: (r) => r.Zone },
          { title: 'Route table', render: (r) => <a href={`#/route-tables/${r.RouteTableId}`}>{r.RouteTableId}</a> },
          { title: 'Network ACL', render: (r) => (r.NetworkAclId ? <a href={`#/network-acls/${r.NetworkAclId}`}>{r.NetworkAclId}</a> : '—') },
          { title: 'Free IPs', render: (r) => r.AvailableIpAddressCount },
          { title: 'Created', render: (r) => r.CreatedTime },
          { title: '', render: (r) => <ActionButton label="Delete" testId={`delete-${r.SubnetId}`} run={() => api.call('vpc', 'DeleteSubnet', { SubnetId: r.SubnetId })} onDone={bump} /> },
        ]}
      />
    </div>
  );
}
