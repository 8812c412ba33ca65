/**
 * Elastic IPs: the list (paged and filtered on the server), allocate, and for
 * the one selected: bind to an instance, unbind, bandwidth, name, release.
 * Binding is done when the call returns (UNBIND ↔ BIND, never BINDING).
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { ActionButton, ActionForm, FormCard, ResourceTable, useApi, usePolled } from '../ui';
import { Details, Facts, FieldBox, IdInput, State } from './edge-common';

addZh({
  'Allocate EIP': '申请弹性公网IP',
  'Allocate': '申请',
  'Address': '地址',
  'Bound to': '绑定资源',
  'Bandwidth (Mbps)': '带宽上限 (Mbps)',
  'Billing': '计费方式',
  'Bind to an instance': '绑定云服务器',
  'Bind': '绑定',
  'Unbind': '解绑',
  'Release': '释放',
  'Change bandwidth': '调整带宽',
  'Rename': '重命名',
  'Instance': '云服务器',
  'Private address': '内网地址',
  'Network interface': '弹性网卡',
  'Count': '数量',
  'Quota': '配额',
  'IP address…': 'IP 地址…',
});

interface Address {
  AddressId: string;
  AddressName: string | null;
  AddressIp: string;
  AddressStatus: string;
  InstanceId: string | null;
  InstanceType: string | null;
  NetworkInterfaceId: string | null;
  PrivateAddressIp: string | null;
  Bandwidth: number | null;
  InternetChargeType: string | null;
  CreatedTime: string;
}

const CHARGE_TYPES = ['TRAFFIC_POSTPAID_BY_HOUR', 'BANDWIDTH_POSTPAID_BY_HOUR'];

export function EipsPage() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const [selected, setSelected] = useState<string>();
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <ActionForm
        testId="allocate-eip"
        title="Allocate EIP"
        submitLabel="Allocate"
        fields={[
          { name: 'AddressName', label: 'Name', placeholder: 'web-eip' },
          { name: 'AddressCount', label: 'Count', defaultValue: '1' },
          { name: 'InternetChargeType', label: 'Billing', options: CHARGE_TYPES.map((c) => ({ value: c, label: c })) },
          { name: 'InternetMaxBandwidthOut', label: 'Bandwidth (Mbps)', defaultValue: '10' },
        ]}
        submit={(v) =>
          api.call('vpc', 'AllocateAddresses', {
            AddressName: v.AddressName || undefined,
            AddressCount: Number(v.AddressCount || 1),
            InternetChargeType: v.InternetChargeType,
            InternetMaxBandwidthOut: Number(v.InternetMaxBandwidthOut || 1),
          })
        }
        onDone={bump}
      />
      <Quota version={version} />
      <ResourceTable<Address>
        testId="eips"
        deps={[version]}
        rowKey={(r) => r.AddressId}
        searchPlaceholder="IP address…"
        onSelect={(r) => setSelected(r.AddressId)}
        load={async (Offset, Limit, search) => {
          // The search box takes an address or an EIP ID (Tencent's address-name filter is exact, an address is what people type).
          const Filters = !search ? undefined : [{ Name: /^eip-/.test(search) ? 'address-id' : /^[\d.]+$/.test(search) ? 'address-ip' : 'address-name', Values: [search] }];
          const r = await api.call<{ AddressSet: Address[]; TotalCount: number }>('vpc', 'DescribeAddresses', { Offset, Limit, Filters });
          return { rows: r.AddressSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.AddressId },
          { title: 'Name', render: (r) => r.AddressName ?? '' },
          { title: 'Address', render: (r) => r.AddressIp },
          { title: 'State', render: (r) => <State state={r.AddressStatus} /> },
          { title: 'Bound to', render: (r) => (r.InstanceType === 'NAT' ? <a href={`#/nat-gateways/${r.InstanceId}`}>{r.InstanceId} (NAT)</a> : (r.InstanceId ?? '')) },
          { title: 'Bandwidth (Mbps)', render: (r) => r.Bandwidth ?? '' },
          { title: 'Created', render: (r) => r.CreatedTime },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Release"
                testId={`release-${r.AddressId}`}
                run={() => api.call('vpc', 'ReleaseAddresses', { AddressIds: [r.AddressId] })}
                onDone={() => (setSelected(undefined), bump())}
              />
            ),
          },
        ]}
      />
      {selected && <EipDetails id={selected} version={version} onChange={bump} onClose={() => setSelected(undefined)} />}
    </div>
  );
}

/** How many EIPs the account holds of its quota (DescribeAddressQuota). */
function Quota({ version }: { version: number }) {
  const api = useApi();
  const t = useT();
  const { value } = usePolled(() => api.call<{ QuotaSet: { QuotaId: string; QuotaCurrent: number; QuotaLimit: number }[] }>('vpc', 'DescribeAddressQuota'), [version], 0);
  const total = value?.QuotaSet.find((q) => q.QuotaId === 'TOTAL_EIP_QUOTA');
  return total ? (
    <p className="muted" data-testid="eip-quota">
      {t('Quota')}: {total.QuotaCurrent} / {total.QuotaLimit}
    </p>
  ) : null;
}

/** One EIP: what it is bound to, and the forms that change it. */
function EipDetails({ id, version, onChange, onClose }: { id: string; version: number; onChange: () => void; onClose: () => void }) {
  const api = useApi();
  const { value } = usePolled(() => api.call<{ AddressSet: Address[] }>('vpc', 'DescribeAddresses', { AddressIds: [id] }), [id, version]);
  const a = value?.AddressSet[0];
  if (!a) return null;
  const natHeld = a.InstanceType === 'NAT';
  return (
    <Details testId="eip-details" title={`${a.AddressId} · ${a.AddressIp}`} onClose={onClose}>
      <Facts
        items={[
          ['State', <State state={a.AddressStatus} />],
          ['Bound to', a.InstanceId],
          ['Network interface', a.NetworkInterfaceId],
          ['Private address', a.PrivateAddressIp],
          ['Billing', a.InternetChargeType],
          ['Bandwidth (Mbps)', a.Bandwidth],
        ]}
      />
      <div className="row">
        {a.AddressStatus === 'UNBIND' && (
          <FormCard
            testId="associate-eip"
            title="Bind to an instance"
            submitLabel="Bind"
            submit={(v) => api.call('vpc', 'AssociateAddress', { AddressId: a.AddressId, InstanceId: v.InstanceId })}
            onDone={onChange}
          >
            <FieldBox label="Instance">
              <IdInput name="InstanceId" kind="instance" placeholder="ins-…" />
            </FieldBox>
          </FormCard>
        )}
        {a.AddressStatus === 'BIND' && !natHeld && (
          <ActionButton label="Unbind" testId="disassociate-eip" run={() => api.call('vpc', 'DisassociateAddress', { AddressId: a.AddressId })} onDone={onChange} />
        )}
        <ActionForm
          testId="eip-bandwidth"
          title="Change bandwidth"
          submitLabel="Save"
          fields={[{ name: 'InternetMaxBandwidthOut', label: 'Bandwidth (Mbps)', defaultValue: String(a.Bandwidth ?? '') }]}
          submit={(v) => api.call('vpc', 'ModifyAddressesBandwidth', { AddressIds: [a.AddressId], InternetMaxBandwidthOut: Number(v.InternetMaxBandwidthOut) })}
          onDone={onChange}
        />
        <ActionForm
          testId="eip-rename"
          title="Rename"
          submitLabel="Save"
          fields={[{ name: 'AddressName', label: 'Name', defaultValue: a.AddressName ?? '' }]}
          submit={(v) => api.call('vpc', 'ModifyAddressAttribute', { AddressId: a.AddressId, AddressName: v.AddressName })}
          onDone={onChange}
        />
      </div>
    </Details>
  );
}
