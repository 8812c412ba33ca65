/**
 * Security groups: the list (paged and filtered on the server), create,
 * delete; a row opens the group (#/security-groups/sg-…) with its policy
 * editor (sg-policies.tsx).
 */
import { useState } from 'react';
import { addZh } from '../i18n';
import { filtersOrNone, searchFilters, TextField } from '../pickers';
import { ActionButton, FormCard, ResourceTable, useApi } from '../ui';
import { SecurityGroupDetails } from './sg-policies';

addZh({
  'Create security group': '新建安全组',
  'Group name': '安全组名称',
  'Description': '描述',
  'Default': '默认',
});

interface SecurityGroup {
  SecurityGroupId: string;
  SecurityGroupName: string;
  SecurityGroupDesc: string;
  IsDefault: boolean;
  CreatedTime: string;
}

export function SecurityGroupsPage({ params }: { params: string[] }) {
  if (params[0]) return <SecurityGroupDetails id={params[0]} />;
  return <SecurityGroupList />;
}

function SecurityGroupList() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <FormCard testId="create-security-group" title="Create security group" submit={(v) => api.call('vpc', 'CreateSecurityGroup', v)} onDone={bump}>
        <TextField name="GroupName" label="Group name" placeholder="web" />
        <TextField name="GroupDescription" label="Description" placeholder="web servers" />
      </FormCard>
      <ResourceTable<SecurityGroup>
        testId="security-groups"
        deps={[version]}
        rowKey={(r) => r.SecurityGroupId}
        searchPlaceholder="Name or ID…"
        onSelect={(r) => (location.hash = `#/security-groups/${r.SecurityGroupId}`)}
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ SecurityGroupSet: SecurityGroup[]; TotalCount: number }>('vpc', 'DescribeSecurityGroups', {
            Offset: String(Offset),
            Limit: String(Limit),
            Filters: filtersOrNone(searchFilters(search, 'sg', 'security-group-id', 'security-group-name')),
          });
          return { rows: r.SecurityGroupSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/security-groups/${r.SecurityGroupId}`}>{r.SecurityGroupId}</a> },
          { title: 'Name', render: (r) => r.SecurityGroupName },
          { title: 'Description', render: (r) => r.SecurityGroupDesc },
          { title: 'Default', render: (r) => (r.IsDefault ? '✓' : '') },
          { title: 'Created', render: (r) => r.CreatedTime },
          {
            title: '',
            render: (r) => (
              <ActionButton label="Delete" testId={`delete-${r.SecurityGroupId}`} run={() => api.call('vpc', 'DeleteSecurityGroup', { SecurityGroupId: r.SecurityGroupId })} onDone={bump} />
            ),
          },
        ]}
      />
    </div>
  );
}
