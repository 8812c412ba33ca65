/**
 * Network detection (Tencent's NetDetect): the list (paged and filtered on
 * the server: VPC, and the search box as a detection ID, a subnet ID or a
 * name), each row with the state of each of its destinations
 * (DescribeNetDetectStates for the listed page only, polled with the list),
 * create, modify, delete, and a "check" of a path that creates nothing
 * (CheckNetDetectState).
 *
 * A state is the tracer's verdict for the subnet's traffic combined with the
 * probes the hosts send; Delay and PacketLossRate come from the probes only,
 * so they are absent where no host measured the path (the sim data plane
 * probes nothing): the page says so rather than showing 0 ms.
 */
import { useState } from 'react';
import { addZh, useT } from '../i18n';
import { ChoiceField, filtersOrNone, searchFilters, SubnetSelect, TextField, VpcSelect } from '../pickers';
import { ActionButton, FormCard, ResourceTable, useApi } from '../ui';
import { Details, Facts } from './edge-common';

addZh({
  'Network detection': '网络探测',
  'Create network detection': '新建网络探测',
  'Check a path': '检查路径',
  'Check': '检查',
  'Destinations (one or two, comma-separated)': '探测目的IP（一个或两个，逗号分隔）',
  'Destinations': '探测目的IP',
  'Source addresses': '探测源IP',
  'Next hop type': '下一跳类型',
  'Next hop': '下一跳',
  'Next hop destination': '下一跳目的',
  'Destination states': '探测状态',
  'Change detection': '修改网络探测',
  'All VPCs': '全部私有网络',
  'Name, netd-… or subnet-…': '名称、netd-… 或 subnet-…',
  'Reachable': '可达',
  'No route': '查询不到路由丢包',
  'Dropped by outbound ACL': '出方向ACL丢包',
  'Dropped by inbound ACL': '入方向ACL丢包',
  'Other error': '其他错误',
  'Delay': '时延',
  'loss': '丢包率',
  'no delay figures: no host has probed this path (the sim data plane sends no probes; the state is the packet tracer’s)':
    '无时延数据：没有主机探测过此路径（sim 数据面不发探测包；状态来自报文追踪）',
  'Result': '结果',
  'Subnet': '子网',
});

interface NetDetect {
  NetDetectId: string;
  NetDetectName: string;
  VpcId: string;
  VpcName: string;
  SubnetId: string;
  SubnetName: string;
  DetectDestinationIp: string[];
  DetectSourceIp: string[];
  NextHopType: string;
  NextHopDestination: string;
  NextHopName: string;
  NetDetectDescription: string;
  CreateTime: string;
}

interface IpState {
  DetectDestinationIp: string;
  State: number;
  Delay?: number;
  PacketLossRate?: number;
}

/** A listed detection with its destinations' states (absent until the states answer). */
type Row = NetDetect & { states?: IpState[] };

const NEXT_HOP_TYPES = ['NONEXTHOP', 'NORMAL_CVM', 'PEERCONNECTION', 'NAT'] as const;
/** What NextHopDestination is for each type. */
const HOP_PLACEHOLDER: Record<string, string> = { NONEXTHOP: '—', NORMAL_CVM: '10.0.1.4 (an instance’s private IP)', PEERCONNECTION: 'pcx-…', NAT: 'nat-…' };

/** Tencent's NetDetectIpState.State: 0 success, -1 no route, -2 outbound ACL, -3 inbound ACL, -4 other. */
const STATES: Record<number, { key: string; words: string }> = {
  0: { key: 'REACHABLE', words: 'Reachable' },
  [-1]: { key: 'NO_ROUTE', words: 'No route' },
  [-2]: { key: 'ACL_OUT', words: 'Dropped by outbound ACL' },
  [-3]: { key: 'ACL_IN', words: 'Dropped by inbound ACL' },
  [-4]: { key: 'ERROR', words: 'Other error' },
};

/** "10.0.2.4, 10.0.3.4" → the array the API takes. */
const ips = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** The next hop as sent: NONEXTHOP has no destination, and an empty one is left out. */
const nextHop = (v: Record<string, string>) => ({ NextHopType: v.NextHopType, NextHopDestination: v.NextHopDestination || undefined });

export function NetDetectsPage() {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const [vpcFilter, setVpcFilter] = useState('');
  const [selected, setSelected] = useState<Row>();
  const bump = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <FormCard
        testId="create-net-detect"
        title="Create network detection"
        submit={(v) => api.call('vpc', 'CreateNetDetect', { VpcId: v.VpcId, SubnetId: v.SubnetId, NetDetectName: v.NetDetectName, DetectDestinationIp: ips(v.DetectDestinationIp ?? ''), ...nextHop(v) })}
        onDone={bump}
      >
        <TextField name="NetDetectName" label="Name" placeholder="to-db" />
        <PathFields />
      </FormCard>
      <div className="toolbar netd-filter">
        <VpcSelect name="vpc-filter" label="VPC" none="All VPCs" value={vpcFilter} onChange={setVpcFilter} />
      </div>
      <ResourceTable<Row>
        testId="net-detects"
        deps={[version, vpcFilter]}
        rowKey={(r) => r.NetDetectId}
        searchPlaceholder="Name, netd-… or subnet-…"
        onSelect={setSelected}
        load={async (Offset, Limit, search) => {
          const filters = [
            ...(vpcFilter ? [{ Name: 'vpc-id', Values: [vpcFilter] }] : []),
            // A subnet ID typed whole lists that subnet's detections; otherwise an ID or a name.
            ...(/^subnet-[0-9a-z]{8}$/.test(search) ? [{ Name: 'subnet-id', Values: [search] }] : searchFilters(search, 'netd', 'net-detect-id', 'net-detect-name')),
          ];
          const r = await api.call<{ NetDetectSet: NetDetect[]; TotalCount: number }>('vpc', 'DescribeNetDetects', { Offset, Limit, Filters: filtersOrNone(filters) });
          return { rows: await withStates(api, r.NetDetectSet), total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.NetDetectId },
          { title: 'Name', render: (r) => r.NetDetectName },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'Subnet', render: (r) => r.SubnetId },
          { title: 'Source addresses', render: (r) => r.DetectSourceIp.join(', ') },
          { title: 'Next hop', render: (r) => <HopText row={r} /> },
          { title: 'Destinations', render: (r) => <IpStates states={r.states} destinations={r.DetectDestinationIp} /> },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Delete"
                testId={`delete-${r.NetDetectId}`}
                run={() => api.call('vpc', 'DeleteNetDetect', { NetDetectId: r.NetDetectId })}
                onDone={() => (selected?.NetDetectId === r.NetDetectId && setSelected(undefined), bump())}
              />
            ),
          },
        ]}
      />
      {selected && <NetDetectDetails row={selected} onClose={() => setSelected(undefined)} onChange={() => (setSelected(undefined), bump())} />}
      <CheckPath />
    </div>
  );
}

/** The states of one page of detections, asked by their IDs (one request, never the whole account). */
async function withStates(api: ReturnType<typeof useApi>, rows: NetDetect[]): Promise<Row[]> {
  if (!rows.length) return [];
  const s = await api.call<{ NetDetectStateSet: { NetDetectId: string; NetDetectIpStateSet: IpState[] }[] }>('vpc', 'DescribeNetDetectStates', {
    NetDetectIds: rows.map((r) => r.NetDetectId),
    Limit: rows.length,
  });
  const byId = new Map(s.NetDetectStateSet.map((x) => [x.NetDetectId, x.NetDetectIpStateSet]));
  return rows.map((r) => ({ ...r, states: byId.get(r.NetDetectId) }));
}

const HopText = ({ row }: { row: NetDetect }) => (
  <>
    {row.NextHopType}
    {row.NextHopDestination && ` ${row.NextHopDestination}`}
    {row.NextHopName && <span className="muted"> {row.NextHopName}</span>}
  </>
);

/** The subnet, destinations and next hop of a path: what a detection and a check both take. */
function PathFields() {
  const [vpc, setVpc] = useState('');
  const [subnet, setSubnet] = useState('');
  const [hop, setHop] = useState<string>('NONEXTHOP');
  return (
    <>
      <VpcSelect value={vpc} onChange={(id) => (setVpc(id), setSubnet(''))} />
      <SubnetSelect vpcId={vpc} value={subnet} onChange={setSubnet} />
      <TextField name="DetectDestinationIp" label="Destinations (one or two, comma-separated)" placeholder="10.0.2.4, 10.0.3.4" />
      <HopFields type={hop} onType={setHop} />
    </>
  );
}

/** Next hop type and destination; the destination's hint follows the type. */
function HopFields(p: { type: string; onType: (t: string) => void; destination?: string }) {
  return (
    <>
      <ChoiceField name="NextHopType" label="Next hop type" choices={NEXT_HOP_TYPES} defaultValue={p.type} onChange={p.onType} />
      <TextField name="NextHopDestination" label="Next hop destination" placeholder={HOP_PLACEHOLDER[p.type]} defaultValue={p.destination} />
    </>
  );
}

/**
 * Each destination's state in words, with its delay and loss when a host
 * measured them. `state-<KEY>` and data-state (Tencent's number) are the
 * hooks of the tests and the colours.
 */
function IpStates({ states, destinations }: { states?: IpState[]; destinations: string[] }) {
  const t = useT();
  if (!states) return <>{destinations.join(', ')}</>;
  return (
    <ul className="netd-states">
      {states.map((s) => {
        const meaning = STATES[s.State] ?? { key: 'ERROR', words: 'Other error' };
        return (
          <li key={s.DetectDestinationIp} data-ip={s.DetectDestinationIp} data-state={s.State}>
            <span className="netd-ip">{s.DetectDestinationIp}</span> <span className={`state-${meaning.key}`}>{t(meaning.words)}</span>{' '}
            <span className="muted">({s.State})</span>{' '}
            {s.Delay === undefined ? (
              <span className="muted netd-nofigures">{t('no delay figures: no host has probed this path (the sim data plane sends no probes; the state is the packet tracer’s)')}</span>
            ) : s.State !== 0 ? (
              // A failed path answers Delay 0: no echo came back, which is not a round trip of 0 ms.
              <span className="netd-figures">
                {t('loss')} {s.PacketLossRate ?? 100}%
              </span>
            ) : (
              <span className="netd-figures">
                {t('Delay')} {s.Delay} ms · {t('loss')} {s.PacketLossRate ?? 0}%
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** One detection: its facts, and its name, destinations and next hop changed (ModifyNetDetect). */
function NetDetectDetails({ row, onClose, onChange }: { row: Row; onClose: () => void; onChange: () => void }) {
  const api = useApi();
  const [hop, setHop] = useState(row.NextHopType);
  return (
    <Details testId="net-detect-details" title={`${row.NetDetectId} · ${row.NetDetectName}`} onClose={onClose}>
      <Facts
        items={[
          ['VPC', `${row.VpcId} ${row.VpcName}`],
          ['Subnet', `${row.SubnetId} ${row.SubnetName}`],
          ['Source addresses', row.DetectSourceIp.join(', ')],
          ['Next hop', <HopText row={row} />],
          ['Created', row.CreateTime],
        ]}
      />
      <FormCard
        key={row.NetDetectId}
        testId="modify-net-detect"
        title="Change detection"
        submitLabel="Save"
        submit={(v) =>
          api.call('vpc', 'ModifyNetDetect', {
            NetDetectId: row.NetDetectId,
            NetDetectName: v.NetDetectName,
            DetectDestinationIp: ips(v.DetectDestinationIp ?? ''),
            ...nextHop(v),
          })
        }
        onDone={onChange}
      >
        <TextField name="NetDetectName" label="Name" defaultValue={row.NetDetectName} />
        <TextField name="DetectDestinationIp" label="Destinations (one or two, comma-separated)" defaultValue={row.DetectDestinationIp.join(', ')} />
        <HopFields type={hop} onType={setHop} destination={row.NextHopDestination} />
      </FormCard>
    </Details>
  );
}

/** A path checked now, nothing created (CheckNetDetectState); the answer shows under the form. */
function CheckPath() {
  const api = useApi();
  const [result, setResult] = useState<IpState[]>();
  return (
    <>
      <FormCard
        testId="check-net-detect"
        title="Check a path"
        submitLabel="Check"
        submit={(v) => {
          // An answer of an earlier path must not stand beside this one's error.
          setResult(undefined);
          return api.call<{ NetDetectIpStateSet: IpState[] }>('vpc', 'CheckNetDetectState', {
            VpcId: v.VpcId,
            SubnetId: v.SubnetId,
            // The API wants a name even for a check that creates nothing.
            NetDetectName: 'console-check',
            DetectDestinationIp: ips(v.DetectDestinationIp ?? ''),
            ...nextHop(v),
          });
        }}
        onDone={(r) => setResult((r as { NetDetectIpStateSet: IpState[] }).NetDetectIpStateSet)}
      >
        <PathFields />
      </FormCard>
      {result && (
        <div className="card" data-testid="check-net-detect-result">
          <IpStates states={result} destinations={result.map((s) => s.DetectDestinationIp)} />
        </div>
      )}
    </>
  );
}
