/**
 * Instances: run one (cvm RunInstances) in a subnet of a VPC with a
 * security group; the list (paged, instance-name / instance-id filter) polls,
 * so a launch shows PENDING and then RUNNING as the host places it; start,
 * stop, terminate.
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { filtersOrNone, RemoteSelect, searchFilters, securityGroupOptions, StateText, SubnetSelect, TextField, VpcSelect } from '../pickers';
import { ActionButton, FormCard, ResourceTable, useApi } from '../ui';

addZh({
  'Run instance': '新建实例',
  'Instance name': '实例名称',
  'Security group': '安全组',
  'Private IP': '内网IP',
  'Start': '开机',
  'Stop': '关机',
  'Terminate': '销毁',
  'Run': '创建',
});

interface Instance {
  InstanceId: string;
  InstanceName: string;
  InstanceState: string;
  PrivateIpAddresses: string[];
  VirtualPrivateCloud: { VpcId: string; SubnetId: string };
  Placement: { Zone: string };
  SecurityGroupIds: string[];
  CreatedTime: string;
}

export function InstancesPage() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const power = (action: string, r: Instance) => api.call('cvm', action, { InstanceIds: [r.InstanceId] });
  return (
    <div className="page">
      <RunInstanceForm onDone={bump} />
      <ResourceTable<Instance>
        testId="instances"
        deps={[version]}
        rowKey={(r) => r.InstanceId}
        searchPlaceholder="Name or ID…"
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ InstanceSet: Instance[]; TotalCount: number }>('cvm', 'DescribeInstances', {
            Offset,
            Limit,
            Filters: filtersOrNone(searchFilters(search, 'ins', 'instance-id', 'instance-name')),
          });
          return { rows: r.InstanceSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.InstanceId },
          { title: 'Name', render: (r) => r.InstanceName },
          { title: 'State', render: (r) => <StateText state={r.InstanceState} /> },
          { title: 'Private IP', render: (r) => r.PrivateIpAddresses.join(', ') },
          { title: 'VPC', render: (r) => r.VirtualPrivateCloud.VpcId },
          { title: 'Subnet', render: (r) => r.VirtualPrivateCloud.SubnetId },
          { title: 'Zone', render: (r) => r.Placement.Zone },
          {
            title: 'Security group',
            render: (r) =>
              r.SecurityGroupIds.map((g) => (
                <a key={g} href={`#/security-groups/${g}`} className="chip">
                  {g}
                </a>
              )),
          },
          { title: 'Created', render: (r) => r.CreatedTime },
          {
            title: '',
            render: (r) => (
              <span className="row-actions">
                {r.InstanceState === 'STOPPED' && <ActionButton label="Start" testId={`start-${r.InstanceId}`} run={() => power('StartInstances', r)} onDone={bump} />}
                {r.InstanceState === 'RUNNING' && <ActionButton label="Stop" testId={`stop-${r.InstanceId}`} run={() => power('StopInstances', r)} onDone={bump} />}
                <ActionButton label="Terminate" testId={`terminate-${r.InstanceId}`} run={() => power('TerminateInstances', r)} onDone={bump} />
              </span>
            ),
          },
        ]}
      />
    </div>
  );
}

/**
 * RunInstances: the subnet select lists the chosen VPC's subnets, and the
 * zone is the subnet's (an instance lives in its subnet's zone).
 */
function RunInstanceForm({ onDone }: { onDone: () => void }) {
  const api = useApi();
  const t = useT();
  const [vpcId, setVpcId] = useState('');
  const [subnet, setSubnet] = useState({ id: '', zone: '' });
  return (
    <FormCard
      testId="run-instances"
      title="Run instance"
      submitLabel="Run"
      onDone={onDone}
      submit={(v) =>
        api.call('cvm', 'RunInstances', {
          Placement: { Zone: v.Zone },
          VirtualPrivateCloud: { VpcId: v.VpcId, SubnetId: v.SubnetId },
          ...(v.SecurityGroupIds ? { SecurityGroupIds: [v.SecurityGroupIds] } : {}),
          ...(v.InstanceName ? { InstanceName: v.InstanceName } : {}),
        })
      }
    >
      <VpcSelect value={vpcId} onChange={setVpcId} />
      <SubnetSelect vpcId={vpcId} value={subnet.id} onChange={(id, zone) => setSubnet({ id, zone })} />
      <RemoteSelect name="SecurityGroupIds" label="Security group" load={(s) => securityGroupOptions(api, s)} />
      <TextField name="InstanceName" label="Instance name" placeholder="web-1" />
      <label>
        <span>{t('Zone')}</span>
        <input name="Zone" value={subnet.zone} readOnly className="readonly" />
      </label>
    </FormCard>
  );
}
