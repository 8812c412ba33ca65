/**
 * NAT gateways: the list (paged and filtered on the server; a new gateway is
 * PENDING until its task makes it AVAILABLE, which the polled list shows),
 * create, delete, and per gateway (#/nat-gateways/nat-…): its EIPs, SNAT
 * rules (a subnet or an instance's port leaves by the gateway's EIPs) and DNAT
 * rules (an EIP's port forwarded to an instance).
 */
import { useState } from 'react';
import { addZh } from '../i18n';
import { ActionButton, ActionForm, FormCard, nameFilter, ResourceTable, useApi, usePolled } from '../ui';
import { Details, Facts, FieldBox, IdInput, State } from './edge-common';
import { NatFlows } from './nat-flows';

addZh({
  'Create NAT gateway': '新建NAT网关',
  'VPC': '私有网络',
  'New EIPs': '新申请EIP数',
  'Existing EIPs (comma-separated)': '已有EIP（逗号分隔）',
  'EIPs': '弹性公网IP',
  'SNAT rules': 'SNAT规则',
  'DNAT rules': '端口转发规则',
  'Add SNAT rule': '添加SNAT规则',
  'Add DNAT rule': '添加端口转发规则',
  'Resource type': '资源类型',
  'Resource ID': '资源ID',
  'Private address or CIDR': '内网地址或网段',
  'Public addresses (comma-separated)': '公网地址（逗号分隔）',
  'Description': '描述',
  'Protocol': '协议',
  'Public address': '公网地址',
  'Public port': '公网端口',
  'Private port': '内网端口',
  'Source': '源',
  'Forward to': '转发到',
  'Max connections': '最大并发连接数',
});

interface PublicIp {
  AddressId: string;
  PublicIpAddress: string;
}

interface NatGateway {
  NatGatewayId: string;
  NatGatewayName: string;
  State: string;
  VpcId: string;
  Zone: string;
  InternetMaxBandwidthOut: number;
  MaxConcurrentConnection: number;
  PublicIpAddressSet: PublicIp[];
  CreatedTime: string;
}

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function NatGatewaysPage({ params }: { params: string[] }) {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = () => setVersion((v) => v + 1);
  const selected = params[0];
  return (
    <div className="page">
      <FormCard
        testId="create-nat-gateway"
        title="Create NAT gateway"
        submit={(v) =>
          api.call('vpc', 'CreateNatGateway', {
            NatGatewayName: v.NatGatewayName,
            VpcId: v.VpcId,
            InternetMaxBandwidthOut: Number(v.InternetMaxBandwidthOut),
            AddressCount: v.AddressCount ? Number(v.AddressCount) : undefined,
            PublicIpAddresses: list(v.PublicIpAddresses ?? '').length ? list(v.PublicIpAddresses!) : undefined,
          })
        }
        onDone={bump}
      >
        <FieldBox label="Name">
          <input name="NatGatewayName" placeholder="nat-1" />
        </FieldBox>
        <FieldBox label="VPC">
          <IdInput name="VpcId" kind="vpc" placeholder="vpc-…" />
        </FieldBox>
        <FieldBox label="Bandwidth (Mbps)">
          <select name="InternetMaxBandwidthOut" defaultValue="100">
            {[20, 50, 100, 200, 500, 1000, 2000, 5000].map((b) => (
              <option key={b}>{b}</option>
            ))}
          </select>
        </FieldBox>
        <FieldBox label="New EIPs">
          <input name="AddressCount" defaultValue="1" size={4} />
        </FieldBox>
        <FieldBox label="Existing EIPs (comma-separated)">
          <input name="PublicIpAddresses" placeholder="203.0.113.10" />
        </FieldBox>
      </FormCard>
      <ResourceTable<NatGateway>
        testId="nat-gateways"
        deps={[version]}
        rowKey={(r) => r.NatGatewayId}
        searchPlaceholder="Name…"
        onSelect={(r) => (location.hash = `#/nat-gateways/${r.NatGatewayId}`)}
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ NatGatewaySet: NatGateway[]; TotalCount: number }>('vpc', 'DescribeNatGateways', {
            Offset,
            Limit,
            Filters: /^nat-[0-9a-z]{8}$/.test(search) ? [{ Name: 'nat-gateway-id', Values: [search] }] : nameFilter('nat-gateway-name', search),
          });
          return { rows: r.NatGatewaySet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/nat-gateways/${r.NatGatewayId}`}>{r.NatGatewayId}</a> },
          { title: 'Name', render: (r) => r.NatGatewayName },
          { title: 'State', render: (r) => <State state={r.State} /> },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'EIPs', render: (r) => r.PublicIpAddressSet.map((e) => e.PublicIpAddress).join(', ') },
          { title: 'Bandwidth (Mbps)', render: (r) => r.InternetMaxBandwidthOut },
          { title: 'Created', render: (r) => r.CreatedTime },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Delete"
                testId={`delete-${r.NatGatewayId}`}
                run={() => api.call('vpc', 'DeleteNatGateway', { NatGatewayId: r.NatGatewayId })}
                onDone={() => {
                  if (selected === r.NatGatewayId) location.hash = '#/nat-gateways';
                  bump();
                }}
              />
            ),
          },
        ]}
      />
      {selected && <NatDetails id={selected} version={version} />}
    </div>
  );
}

/** One gateway: its facts and its rules. The rule forms work once it is AVAILABLE (the API says so before). */
function NatDetails({ id, version }: { id: string; version: number }) {
  const api = useApi();
  const [rules, setRules] = useState(0);
  const bump = () => setRules((v) => v + 1);
  const { value, error } = usePolled(() => api.call<{ NatGatewaySet: NatGateway[] }>('vpc', 'DescribeNatGateways', { NatGatewayIds: [id] }), [id, version]);
  const nat = value?.NatGatewaySet[0];
  if (error || !nat) return null;
  const ips = nat.PublicIpAddressSet.map((e) => e.PublicIpAddress);
  return (
    <Details testId="nat-gateway-details" title={`${nat.NatGatewayId} · ${nat.NatGatewayName}`} onClose={() => (location.hash = '#/nat-gateways')}>
      <Facts
        items={[
          ['State', <State state={nat.State} />],
          ['VPC', nat.VpcId],
          ['EIPs', ips.join(', ')],
          ['Bandwidth (Mbps)', nat.InternetMaxBandwidthOut],
          ['Max connections', nat.MaxConcurrentConnection],
        ]}
      />
      <SnatRules nat={nat} version={rules} onChange={bump} />
      <DnatRules nat={nat} version={rules} onChange={bump} />
      <NatFlows natId={nat.NatGatewayId} available={nat.State === 'AVAILABLE'} />
    </Details>
  );
}

interface SnatRule {
  NatGatewaySnatId: string;
  ResourceType: string;
  ResourceId: string;
  PrivateIpAddress: string;
  PublicIpAddresses: string[];
  Description: string;
}

function SnatRules({ nat, version, onChange }: { nat: NatGateway; version: number; onChange: () => void }) {
  const api = useApi();
  const ips = nat.PublicIpAddressSet.map((e) => e.PublicIpAddress);
  return (
    <>
      <h4>SNAT</h4>
      <FormCard
        testId="create-snat-rule"
        title="Add SNAT rule"
        submitLabel="Create"
        submit={(v) =>
          api.call('vpc', 'CreateNatGatewaySourceIpTranslationNatRule', {
            NatGatewayId: nat.NatGatewayId,
            SourceIpTranslationNatRules: [
              { ResourceType: v.ResourceType, ResourceId: v.ResourceId, PrivateIpAddress: v.PrivateIpAddress, PublicIpAddresses: list(v.PublicIpAddresses ?? ''), Description: v.Description },
            ],
          })
        }
        onDone={onChange}
      >
        <FieldBox label="Resource type">
          <select name="ResourceType">
            <option>SUBNET</option>
            <option>NETWORKINTERFACE</option>
          </select>
        </FieldBox>
        <FieldBox label="Resource ID">
          <IdInput name="ResourceId" kind="subnet" placeholder="subnet-… / eni-…" scope={{ 'vpc-id': nat.VpcId }} />
        </FieldBox>
        <FieldBox label="Private address or CIDR">
          <input name="PrivateIpAddress" placeholder="10.0.1.0/24" />
        </FieldBox>
        <FieldBox label="Public addresses (comma-separated)">
          <input name="PublicIpAddresses" defaultValue={ips[0] ?? ''} key={ips[0]} />
        </FieldBox>
        <FieldBox label="Description">
          <input name="Description" />
        </FieldBox>
      </FormCard>
      <ResourceTable<SnatRule>
        testId="snat-rules"
        deps={[nat.NatGatewayId, version]}
        rowKey={(r) => r.NatGatewaySnatId}
        searchPlaceholder="Resource ID…"
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ SourceIpTranslationNatRuleSet: SnatRule[]; TotalCount: number }>('vpc', 'DescribeNatGatewaySourceIpTranslationNatRules', {
            NatGatewayId: nat.NatGatewayId,
            Offset,
            Limit,
            Filters: nameFilter('resource-id', search),
          });
          return { rows: r.SourceIpTranslationNatRuleSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.NatGatewaySnatId },
          { title: 'Source', render: (r) => `${r.ResourceType} ${r.ResourceId} (${r.PrivateIpAddress})` },
          { title: 'EIPs', render: (r) => r.PublicIpAddresses.join(', ') },
          { title: 'Description', render: (r) => r.Description },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Delete"
                testId={`delete-${r.NatGatewaySnatId}`}
                run={() => api.call('vpc', 'DeleteNatGatewaySourceIpTranslationNatRule', { NatGatewayId: nat.NatGatewayId, NatGatewaySnatIds: [r.NatGatewaySnatId] })}
                onDone={onChange}
              />
            ),
          },
        ]}
      />
    </>
  );
}

interface DnatRule {
  IpProtocol: string;
  PublicIpAddress: string;
  PublicPort: number;
  PrivateIpAddress: string;
  PrivatePort: number;
  Description: string;
}

/** A DNAT rule has no ID: it is named by protocol, public address and port (unique per gateway). */
const dnatKey = (r: DnatRule) => `${r.IpProtocol}-${r.PublicIpAddress}-${r.PublicPort}`;

function DnatRules({ nat, version, onChange }: { nat: NatGateway; version: number; onChange: () => void }) {
  const api = useApi();
  const ips = nat.PublicIpAddressSet.map((e) => e.PublicIpAddress);
  return (
    <>
      <h4>DNAT</h4>
      <ActionForm
        key={ips.join()}
        testId="create-dnat-rule"
        title="Add DNAT rule"
        fields={[
          { name: 'IpProtocol', label: 'Protocol', options: [{ value: 'TCP', label: 'TCP' }, { value: 'UDP', label: 'UDP' }] },
          { name: 'PublicIpAddress', label: 'Public address', options: ips.map((ip) => ({ value: ip, label: ip })) },
          { name: 'PublicPort', label: 'Public port', placeholder: '8080' },
          { name: 'PrivateIpAddress', label: 'Private address', placeholder: '10.0.1.4' },
          { name: 'PrivatePort', label: 'Private port', placeholder: '80' },
          { name: 'Description', label: 'Description' },
        ]}
        submit={(v) =>
          api.call('vpc', 'CreateNatGatewayDestinationIpPortTranslationNatRule', {
            NatGatewayId: nat.NatGatewayId,
            DestinationIpPortTranslationNatRules: [
              { IpProtocol: v.IpProtocol, PublicIpAddress: v.PublicIpAddress, PublicPort: Number(v.PublicPort), PrivateIpAddress: v.PrivateIpAddress, PrivatePort: Number(v.PrivatePort), Description: v.Description },
            ],
          })
        }
        onDone={onChange}
      />
      <ResourceTable<DnatRule>
        testId="dnat-rules"
        deps={[nat.NatGatewayId, version]}
        rowKey={dnatKey}
        searchPlaceholder="Private address…"
        load={async (Offset, Limit, search) => {
          const r = await api.call<{ NatGatewayDestinationIpPortTranslationNatRuleSet: DnatRule[]; TotalCount: number }>(
            'vpc',
            'DescribeNatGatewayDestinationIpPortTranslationNatRules',
            // NatGatewayIds and Filters cannot go together: the gateway is a filter here.
            { Offset, Limit, Filters: [{ Name: 'nat-gateway-id', Values: [nat.NatGatewayId] }, ...(nameFilter('private-ip-address', search) ?? [])] },
          );
          return { rows: r.NatGatewayDestinationIpPortTranslationNatRuleSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'Protocol', render: (r) => r.IpProtocol },
          { title: 'Public address', render: (r) => `${r.PublicIpAddress}:${r.PublicPort}` },
          { title: 'Forward to', render: (r) => `${r.PrivateIpAddress}:${r.PrivatePort}` },
          { title: 'Description', render: (r) => r.Description },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Delete"
                testId={`delete-dnat-${dnatKey(r)}`}
                run={() =>
                  api.call('vpc', 'DeleteNatGatewayDestinationIpPortTranslationNatRule', {
                    NatGatewayId: nat.NatGatewayId,
                    DestinationIpPortTranslationNatRules: [
                      { IpProtocol: r.IpProtocol, PublicIpAddress: r.PublicIpAddress, PublicPort: r.PublicPort, PrivateIpAddress: r.PrivateIpAddress, PrivatePort: r.PrivatePort },
                    ],
                  })
                }
                onDone={onChange}
              />
            ),
          },
        ]}
      />
    </>
  );
}
