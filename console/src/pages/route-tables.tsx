/**
 * Route tables: the list, create, delete; a row opens the table
 * (#/route-tables/rtb-…) with its routes (add, delete) and the subnets
 * associated with it (associate another subnet of its VPC).
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { BackLink, ChoiceField, filtersOrNone, searchFilters, SubnetSelect, TextField, VpcSelect } from '../pickers';
import { ActionButton, ErrorBox, FormCard, ResourceTable, useApi, usePolled } from '../ui';

addZh({
  'Create route table': '新建路由表',
  'Route table name': '路由表名称',
  'Main': '默认',
  'Routes': '路由',
  'Add route': '添加路由',
  'Destination': '目的端',
  'Next hop type': '下一跳类型',
  'Next hop': '下一跳',
  'Associated subnets': '关联的子网',
  'Associate subnet': '关联子网',
  'Associate': '关联',
  'Enabled': '启用',
  'Type': '类型',
  'Add': '添加',
});

interface Route {
  RouteId: number;
  RouteItemId: string;
  DestinationCidrBlock: string;
  GatewayType: string;
  GatewayId: string;
  RouteDescription: string;
  RouteType: string;
  Enabled: boolean;
}
interface RouteTable {
  RouteTableId: string;
  RouteTableName: string;
  VpcId: string;
  Main: boolean;
  AssociationSet: { SubnetId: string }[];
  RouteSet: Route[];
  CreatedTime: string;
}

/** The next hop types Weft routes to (src/core/next-hops.ts). */
const GATEWAY_TYPES = ['NORMAL_CVM', 'PEERCONNECTION', 'NAT', 'EIP'];

export function RouteTablesPage({ params }: { params: string[] }) {
  if (params[0]) return <RouteTableDetails id={params[0]} />;
  return <RouteTableList />;
}

function RouteTableList() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <FormCard testId="create-route-table" title="Create route table" submit={(v) => api.call('vpc', 'CreateRouteTable', v)} onDone={bump}>
        <VpcSelect />
        <TextField name="RouteTableName" label="Route table name" placeholder="via-firewall" />
      </FormCard>
      <ResourceTable<RouteTable>
        testId="route-tables"
        deps={[version]}
        rowKey={(r) => r.RouteTableId}
        searchPlaceholder="Name or ID…"
        onSelect={(r) => (location.hash = `#/route-tables/${r.RouteTableId}`)}
        load={async (Offset, Limit, search) => {
          // The list needs no routes: NeedRouterInfo false keeps a page of big tables small.
          const r = await api.call<{ RouteTableSet: RouteTable[]; TotalCount: number }>('vpc', 'DescribeRouteTables', {
            Offset: String(Offset),
            Limit: String(Limit),
            NeedRouterInfo: false,
            Filters: filtersOrNone(searchFilters(search, 'rtb', 'route-table-id', 'route-table-name')),
          });
          return { rows: r.RouteTableSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/route-tables/${r.RouteTableId}`}>{r.RouteTableId}</a> },
          { title: 'Name', render: (r) => r.RouteTableName },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'Main', render: (r) => (r.Main ? '✓' : '') },
          { title: 'Associated subnets', render: (r) => r.AssociationSet.length },
          { title: 'Created', render: (r) => r.CreatedTime },
          {
            title: '',
            render: (r) =>
              !r.Main && <ActionButton label="Delete" testId={`delete-${r.RouteTableId}`} run={() => api.call('vpc', 'DeleteRouteTable', { RouteTableId: r.RouteTableId })} onDone={bump} />,
          },
        ]}
      />
    </div>
  );
}

function RouteTableDetails({ id }: { id: string }) {
  const api = useApi();
  const t = useT();
  const table = usePolled(
    () => api.call<{ RouteTableSet: RouteTable[] }>('vpc', 'DescribeRouteTables', { RouteTableIds: [id] }).then((r) => r.RouteTableSet[0]),
    [id],
  );
  const rt = table.value;
  const [subnet, setSubnet] = useState('');
  return (
    <div className="page">
      <BackLink to="route-tables" label="Route tables" />
      <h3 data-testid="route-table-title">
        {id} {rt && `· ${rt.RouteTableName} · ${rt.VpcId}`} {rt?.Main && <span className="chip">{t('Main')}</span>}
      </h3>
      <ErrorBox error={table.error} />
      <FormCard
        testId="create-route"
        title="Add route"
        submitLabel="Add"
        submit={(v) => api.call('vpc', 'CreateRoutes', { RouteTableId: id, Routes: [v] })}
        onDone={table.reload}
      >
        <TextField name="DestinationCidrBlock" label="Destination" placeholder="0.0.0.0/0" />
        <ChoiceField name="GatewayType" label="Next hop type" choices={GATEWAY_TYPES} />
        <TextField name="GatewayId" label="Next hop" placeholder="10.0.1.4, pcx-…, nat-…" />
        <TextField name="RouteDescription" label="Description" />
      </FormCard>
      <div className="card">
        <h3>{t('Routes')}</h3>
        <table data-testid="routes">
          <thead>
            <tr>
              <th>RouteId</th>
              <th>{t('Destination')}</th>
              <th>{t('Next hop type')}</th>
              <th>{t('Next hop')}</th>
              <th>{t('Type')}</th>
              <th>{t('Enabled')}</th>
              <th>{t('Description')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rt?.RouteSet.map((r) => (
              <tr key={r.RouteItemId} data-row={r.RouteItemId}>
                <td>{r.RouteId}</td>
                <td>{r.DestinationCidrBlock}</td>
                <td>{r.GatewayType}</td>
                <td>{r.GatewayId}</td>
                <td>{r.RouteType}</td>
                <td>{r.Enabled ? '✓' : '✗'}</td>
                <td>{r.RouteDescription}</td>
                <td>
                  {r.RouteType === 'USER' && (
                    <ActionButton
                      label="Delete"
                      testId={`delete-${r.RouteItemId}`}
                      run={() => api.call('vpc', 'DeleteRoutes', { RouteTableId: id, Routes: [{ RouteItemId: r.RouteItemId }] })}
                      onDone={table.reload}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="card">
        <h3>{t('Associated subnets')}</h3>
        <ul data-testid="route-table-subnets">
          {rt?.AssociationSet.map((a) => (
            <li key={a.SubnetId} data-row={a.SubnetId}>
              {a.SubnetId}
            </li>
          ))}
        </ul>
      </div>
      {rt && (
        <FormCard
          testId="associate-route-table"
          title="Associate subnet"
          submitLabel="Associate"
          submit={(v) => api.call('vpc', 'ReplaceRouteTableAssociation', { RouteTableId: id, SubnetId: v.SubnetId })}
          onDone={table.reload}
        >
          <SubnetSelect vpcId={rt.VpcId} value={subnet} onChange={setSubnet} />
        </FormCard>
      )}
    </div>
  );
}
