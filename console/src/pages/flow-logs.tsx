/**
 * Flow logs: the list (paged on the server; the search box is Tencent's
 * FlowLogName, an exact name), create, enable/disable, rename and describe,
 * delete. A flow log covers a VPC, a subnet or an instance's port
 * (NETWORKINTERFACE: the instance's ENI ID, which DescribeAddresses shows as
 * NetworkInterfaceId). Weft keeps the records itself (`weft flowlogs`), so
 * CloudLogId is optional and kept as given.
 */
import { useState } from 'react';
import { addZh } from '../i18n';
import { ActionButton, ActionForm, FormCard, ResourceTable, useApi } from '../ui';
import { Details, Facts, FieldBox, IdInput, State } from './edge-common';

addZh({
  'Create flow log': '新建流日志',
  'Traffic': '采集类型',
  'Covers': '采集范围',
  'Enabled': '已启用',
  'Disabled': '已停用',
  'Enable': '启用',
  'Disable': '停用',
  'CLS log topic (optional)': 'CLS 日志主题（可选）',
  'Exact name…': '完整名称…',
  'Change name and description': '修改名称和描述',
  'Storage': '存储',
});

interface FlowLog {
  FlowLogId: string;
  FlowLogName: string;
  FlowLogDescription: string;
  VpcId: string;
  ResourceType: string;
  ResourceId: string;
  TrafficType: string;
  CloudLogId: string;
  StorageType: string;
  Enable: boolean;
  CreatedTime: string;
}

const RESOURCE_TYPES = ['VPC', 'SUBNET', 'NETWORKINTERFACE'];
const TRAFFIC_TYPES = ['ALL', 'ACCEPT', 'REJECT'];

export function FlowLogsPage() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const [selected, setSelected] = useState<FlowLog>();
  const [vpc, setVpc] = useState('');
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <FormCard
        testId="create-flow-log"
        title="Create flow log"
        submit={(v) =>
          api.call('vpc', 'CreateFlowLog', {
            FlowLogName: v.FlowLogName,
            VpcId: v.VpcId,
            ResourceType: v.ResourceType,
            // A VPC flow log covers the VPC it names.
            ResourceId: v.ResourceType === 'VPC' ? v.VpcId : v.ResourceId,
            TrafficType: v.TrafficType,
            FlowLogDescription: v.FlowLogDescription || undefined,
            CloudLogId: v.CloudLogId || undefined,
          })
        }
        onDone={bump}
      >
        <FieldBox label="Name">
          <input name="FlowLogName" placeholder="vpc-all" />
        </FieldBox>
        <FieldBox label="VPC">
          <IdInput name="VpcId" kind="vpc" placeholder="vpc-…" onChange={setVpc} />
        </FieldBox>
        <FieldBox label="Resource type">
          <select name="ResourceType">
            {RESOURCE_TYPES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </FieldBox>
        <FieldBox label="Resource ID">
          <IdInput name="ResourceId" kind="subnet" placeholder="subnet-… / eni-…" scope={vpc ? { 'vpc-id': vpc } : undefined} />
        </FieldBox>
        <FieldBox label="Traffic">
          <select name="TrafficType">
            {TRAFFIC_TYPES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </FieldBox>
        <FieldBox label="Description">
          <input name="FlowLogDescription" />
        </FieldBox>
        <FieldBox label="CLS log topic (optional)">
          <input name="CloudLogId" />
        </FieldBox>
      </FormCard>
      <ResourceTable<FlowLog>
        testId="flow-logs"
        deps={[version]}
        rowKey={(r) => r.FlowLogId}
        searchPlaceholder="Exact name…"
        onSelect={setSelected}
        load={async (Offset, Limit, search) => {
          const by = /^fl-[0-9a-z]{8}$/.test(search) ? { FlowLogId: search } : search ? { FlowLogName: search } : {};
          const r = await api.call<{ FlowLog: FlowLog[]; TotalNum: number }>('vpc', 'DescribeFlowLogs', { Offset, Limit, ...by });
          return { rows: r.FlowLog, total: r.TotalNum };
        }}
        columns={[
          { title: 'ID', render: (r) => r.FlowLogId },
          { title: 'Name', render: (r) => r.FlowLogName },
          { title: 'State', render: (r) => <State state={r.Enable ? 'ENABLED' : 'DISABLED'} /> },
          { title: 'Covers', render: (r) => `${r.ResourceType} ${r.ResourceId}` },
          { title: 'Traffic', render: (r) => r.TrafficType },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'Created', render: (r) => r.CreatedTime },
          {
            title: '',
            render: (r) => (
              <span className="buttons">
                <ActionButton
                  label={r.Enable ? 'Disable' : 'Enable'}
                  testId={`${r.Enable ? 'disable' : 'enable'}-${r.FlowLogId}`}
                  run={() => api.call('vpc', r.Enable ? 'DisableFlowLogs' : 'EnableFlowLogs', { FlowLogIds: [r.FlowLogId] })}
                  onDone={bump}
                />
                <ActionButton
                  label="Delete"
                  testId={`delete-${r.FlowLogId}`}
                  run={() => api.call('vpc', 'DeleteFlowLog', { FlowLogId: r.FlowLogId, VpcId: r.VpcId })}
                  onDone={() => (selected?.FlowLogId === r.FlowLogId && setSelected(undefined), bump())}
                />
              </span>
            ),
          },
        ]}
      />
      {selected && (
        <Details testId="flow-log-details" title={`${selected.FlowLogId} · ${selected.FlowLogName}`} onClose={() => setSelected(undefined)}>
          <Facts
            items={[
              ['Covers', `${selected.ResourceType} ${selected.ResourceId}`],
              ['Traffic', selected.TrafficType],
              ['VPC', selected.VpcId],
              ['Description', selected.FlowLogDescription],
              ['Storage', `${selected.StorageType}${selected.CloudLogId ? ` ${selected.CloudLogId}` : ''}`],
            ]}
          />
          <ActionForm
            key={selected.FlowLogId}
            testId="modify-flow-log"
            title="Change name and description"
            submitLabel="Save"
            fields={[
              { name: 'FlowLogName', label: 'Name', defaultValue: selected.FlowLogName },
              { name: 'FlowLogDescription', label: 'Description', defaultValue: selected.FlowLogDescription },
            ]}
            submit={(v) => api.call('vpc', 'ModifyFlowLogAttribute', { FlowLogId: selected.FlowLogId, VpcId: selected.VpcId, ...v })}
            // Saved: the list shows the new name; the panel closes.
            onDone={() => (setSelected(undefined), bump())}
          />
        </Details>
      )}
    </div>
  );
}
