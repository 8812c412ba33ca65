/**
 * Network ACLs: the list, create, delete; a row opens the ACL
 * (#/network-acls/acl-…) with its inbound and outbound entries and the
 * subnets it is bound to.
 *
 * ModifyNetworkAclEntries replaces a direction's whole list, so adding or
 * deleting an entry sends the list as read with that one change: the entries
 * are echoed back as DescribeNetworkAcls gave them (the API ignores the
 * answer-only fields such as Priority and ModifyTime).
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { BackLink, ChoiceField, filtersOrNone, searchFilters, SubnetSelect, TextField, VpcSelect } from '../pickers';
import { ActionButton, ErrorBox, FormCard, ResourceTable, useApi, usePolled } from '../ui';

addZh({
  'Create network ACL': '新建网络ACL',
  'ACL name': 'ACL名称',
  'Inbound': '入站规则',
  'Outbound': '出站规则',
  'Add entry': '添加规则',
  'Bound subnets': '关联的子网',
  'Disassociate': '解绑',
  'Subnets': '子网',
});

interface Entry {
  Protocol: string;
  Port: string;
  CidrBlock: string;
  Ipv6CidrBlock?: string;
  Action: string;
  Description: string;
  Priority?: number;
  ModifyTime?: string;
}
interface NetworkAcl {
  NetworkAclId: string;
  NetworkAclName: string;
  VpcId: string;
  SubnetSet: { SubnetId: string; SubnetName: string; CidrBlock: string }[];
  IngressEntries: Entry[];
  EgressEntries: Entry[];
  CreatedTime: string;
}
type Direction = 'Ingress' | 'Egress';
const DIRECTIONS: { dir: Direction; title: string; key: 'IngressEntries' | 'EgressEntries' }[] = [
  { dir: 'Ingress', title: 'Inbound', key: 'IngressEntries' },
  { dir: 'Egress', title: 'Outbound', key: 'EgressEntries' },
];

export function NetworkAclsPage({ params }: { params: string[] }) {
  if (params[0]) return <NetworkAclDetails id={params[0]} />;
  return <NetworkAclList />;
}

function NetworkAclList() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <FormCard testId="create-network-acl" title="Create network ACL" submit={(v) => api.call('vpc', 'CreateNetworkAcl', v)} onDone={bump}>
        <VpcSelect />
        <TextField name="NetworkAclName" label="ACL name" placeholder="dmz" />
      </FormCard>
      <ResourceTable<NetworkAcl>
        testId="network-acls"
        deps={[version]}
        rowKey={(r) => r.NetworkAclId}
        searchPlaceholder="Name or ID…"
        onSelect={(r) => (location.hash = `#/network-acls/${r.NetworkAclId}`)}
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ NetworkAclSet: NetworkAcl[]; TotalCount: number }>('vpc', 'DescribeNetworkAcls', {
            Offset,
            Limit,
            Filters: filtersOrNone(searchFilters(search, 'acl', 'network-acl-id', 'network-acl-name')),
          });
          return { rows: r.NetworkAclSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/network-acls/${r.NetworkAclId}`}>{r.NetworkAclId}</a> },
          { title: 'Name', render: (r) => r.NetworkAclName },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'Subnets', render: (r) => r.SubnetSet.length },
          { title: 'Inbound', render: (r) => r.IngressEntries.length },
          { title: 'Outbound', render: (r) => r.EgressEntries.length },
          { title: 'Created', render: (r) => r.CreatedTime },
          { title: '', render: (r) => <ActionButton label="Delete" testId={`delete-${r.NetworkAclId}`} run={() => api.call('vpc', 'DeleteNetworkAcl', { NetworkAclId: r.NetworkAclId })} onDone={bump} /> },
        ]}
      />
    </div>
  );
}

/** A new entry from the form, inserted at its position (end when none is given). */
function withEntry(list: readonly Entry[], v: Record<string, string>): Entry[] {
  const entry: Entry = { Protocol: v.Protocol!, Port: v.Port ?? '', CidrBlock: v.CidrBlock!, Action: v.Action!, Description: v.Description ?? '' };
  const at = v.Position ? Math.min(Number(v.Position), list.length) : list.length;
  return [...list.slice(0, at), entry, ...list.slice(at)];
}

function NetworkAclDetails({ id }: { id: string }) {
  const api = useApi();
  const t = useT();
  const acl = usePolled(() => api.call<{ NetworkAclSet: NetworkAcl[] }>('vpc', 'DescribeNetworkAcls', { NetworkAclIds: [id] }).then((r) => r.NetworkAclSet[0]), [id]);
  const a = acl.value;
  const [subnet, setSubnet] = useState('');
  const replace = (dir: Direction, list: Entry[]) => api.call('vpc', 'ModifyNetworkAclEntries', { NetworkAclId: id, NetworkAclEntrySet: { [dir]: list } });
  return (
    <div className="page">
      <BackLink to="network-acls" label="Network ACLs" />
      <h3 data-testid="network-acl-title">
        {id} {a && `· ${a.NetworkAclName} · ${a.VpcId}`}
      </h3>
      <ErrorBox error={acl.error} />
      {a && (
        <FormCard
          testId="acl-entry-form"
          title="Add entry"
          submitLabel="Add"
          submit={(v) => {
            const d = DIRECTIONS.find((x) => x.dir.toLowerCase() === v.Direction)!;
            return replace(d.dir, withEntry(a[d.key], v));
          }}
          onDone={acl.reload}
        >
          <ChoiceField name="Direction" label="Direction" choices={['ingress', 'egress']} />
          <TextField name="Position" label="Position (optional)" placeholder="0 = first" />
          <ChoiceField name="Protocol" label="Protocol" choices={['TCP', 'UDP', 'ICMP', 'ALL']} />
          <TextField name="Port" label="Port" placeholder="22, 80-90, ALL" />
          <TextField name="CidrBlock" label="CIDR block" defaultValue="0.0.0.0/0" />
          <ChoiceField name="Action" label="Action" choices={['ACCEPT', 'DROP']} />
          <TextField name="Description" label="Description" />
        </FormCard>
      )}
      {DIRECTIONS.map(({ dir, title, key }) => (
        <div className="card" key={dir}>
          <h3>{t(title)}</h3>
          <table data-testid={`acl-${dir.toLowerCase()}`}>
            <thead>
              <tr>
                <th>#</th>
                <th>{t('Protocol')}</th>
                <th>{t('Port')}</th>
                <th>{t('CIDR block')}</th>
                <th>{t('Action')}</th>
                <th>{t('Description')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {a?.[key].map((e, i) => (
                <tr key={i} data-row={i}>
                  <td>{i}</td>
                  <td>{e.Protocol}</td>
                  <td>{e.Port}</td>
                  <td>{e.CidrBlock || e.Ipv6CidrBlock}</td>
                  <td className={`policy-${e.Action}`}>{e.Action}</td>
                  <td>{e.Description}</td>
                  <td>
                    <ActionButton
                      label="Delete"
                      testId={`acl-delete-${dir.toLowerCase()}-${i}`}
                      run={() => replace(dir, a[key].filter((_, j) => j !== i))}
                      onDone={acl.reload}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <div className="card">
        <h3>{t('Bound subnets')}</h3>
        <table data-testid="acl-subnets">
          <tbody>
            {a?.SubnetSet.map((s) => (
              <tr key={s.SubnetId} data-row={s.SubnetId}>
                <td>{s.SubnetId}</td>
                <td>{s.SubnetName}</td>
                <td>{s.CidrBlock}</td>
                <td>
                  <ActionButton
                    label="Disassociate"
                    testId={`disassociate-${s.SubnetId}`}
                    run={() => api.call('vpc', 'DisassociateNetworkAclSubnets', { NetworkAclId: id, SubnetIds: [s.SubnetId] })}
                    onDone={acl.reload}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {a && (
        <FormCard
          testId="associate-network-acl"
          title="Associate subnet"
          submitLabel="Associate"
          submit={(v) => api.call('vpc', 'AssociateNetworkAclSubnets', { NetworkAclId: id, SubnetIds: [v.SubnetId] })}
          onDone={acl.reload}
        >
          <SubnetSelect vpcId={a.VpcId} value={subnet} onChange={setSubnet} />
        </FormCard>
      )}
    </div>
  );
}
