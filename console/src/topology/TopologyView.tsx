/**
 * One VPC's topology page: the picture, the tracer drawn on it, and the
 * reachability heat map. Loaded lazily (its own chunk with @xyflow/react;
 * elkjs in another), so the rest of the console does not carry them.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type Api } from '../api';
import { addZh, useT } from '../i18n';
import { ErrorBox, useApi, usePolled } from '../ui';
import { DetailsPanel } from './DetailsPanel';
import { buildGraph, layout, layoutKey, loadElk, type Positions } from './graph';
import { loadHosts, loadTopology, type Topology } from './model';
import { ReachabilityMatrix, type Reach } from './Reachability';
import { TopologyGraph } from './TopologyGraph';
import { decidingNode, emptyHighlight, highlightAll, type Hop, type TraceResult } from './trace';
import { TraceForm, TracePath, traceParams, type Flow } from './TracePanel';

addZh({
  'Laying out…': '布局中…',
  'Not drawn': '未绘制',
  'Other VPCs': '其他私有网络',
  'Drawing the first': '仅绘制前',
  'instances of': '台，共',
});

/**
 * Which host each instance runs on, asked once per instance and state (see
 * loadHosts). The host is a nicety: when the question fails the picture
 * draws without it.
 */
function useHosts(api: Api, vpcId: string, topo: Topology | undefined) {
  const [hosts, setHosts] = useState(() => new Map<string, string>());
  const asked = useRef(new Set<string>());
  useEffect(() => {
    if (!topo) return;
    const want = topo.instances.filter((i) => i.InstanceState !== 'PENDING' && !asked.current.has(`${i.InstanceId}:${i.InstanceState}`));
    if (!want.length) return;
    want.forEach((i) => asked.current.add(`${i.InstanceId}:${i.InstanceState}`));
    loadHosts(api, vpcId, want.map((i) => i.InstanceId)).then(
      (m) => setHosts((prev) => new Map([...prev, ...m])),
      () => undefined,
    );
  }, [api, vpcId, topo]);
  const merge = (m: Iterable<[string, string]>) => setHosts((prev) => new Map([...prev, ...m]));
  return { hosts, merge };
}

// Start fetching and parsing elkjs while the topology loads.
void loadElk();

export default function TopologyView({ vpcId }: { vpcId: string }) {
  const api = useApi();
  const t = useT();
  const { value: topo, error } = usePolled(() => loadTopology(api, vpcId), [vpcId], 5000);
  const { hosts, merge } = useHosts(api, vpcId, topo);
  const graph = useMemo(() => (topo ? buildGraph(topo, hosts) : undefined), [topo, hosts]);
  const key = graph ? layoutKey(graph) : '';

  // The layout runs only when what it depends on changes, not on every poll.
  const [placed, setPlaced] = useState<{ key: string; positions: Positions }>();
  const [layoutError, setLayoutError] = useState<unknown>();
  useEffect(() => {
    if (!graph) return;
    let live = true;
    layout(graph).then(
      (positions) => live && setPlaced({ key, positions }),
      (e: unknown) => live && setLayoutError(e),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const [selected, setSelected] = useState<string>();
  const [flow, setFlow] = useState<Flow>({ SourceInstanceId: '', DestinationInstanceId: '', DestinationIpAddress: '', Protocol: 'TCP', Port: '22', Reply: false });
  const [trace, setTrace] = useState<TraceResult>();
  const [traceError, setTraceError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [reach, setReach] = useState<Reach>();
  const [reachError, setReachError] = useState<unknown>();
  const [picked, setPicked] = useState<[string, string]>();
  const mainRef = useRef<HTMLDivElement>(null);

  // Until the user chooses, trace from the first instance to the second.
  const instances = topo?.instances ?? [];
  useEffect(() => {
    if (flow.SourceInstanceId || !instances.length) return;
    setFlow((f) => ({ ...f, SourceInstanceId: instances[0]!.InstanceId, DestinationInstanceId: (instances[1] ?? instances[0]!).InstanceId }));
  }, [instances, flow.SourceInstanceId]);

  const runTrace = (f: Flow) => {
    setBusy(true);
    setTraceError(undefined);
    api
      .call<TraceResult>('vpc', 'TraceVpcFlow', traceParams(f))
      .then(
        (r) => setTrace(r),
        (e: unknown) => {
          setTrace(undefined);
          setTraceError(e);
        },
      )
      .finally(() => setBusy(false));
  };
  const runMatrix = () => {
    setBusy(true);
    setReachError(undefined);
    const params = { VpcId: vpcId, Protocol: flow.Protocol, ...(flow.Protocol === 'ICMP' ? {} : { Port: Number(flow.Port) }) };
    // Rows and columns in the picture's order (subnet by subnet), while the drawing holds every instance;
    // should one have gone since the last poll, the region's own order will do.
    const ordered = topo && topo.instances.length === topo.instancesTotal && topo.instances.length ? { InstanceIds: topo.instances.map((i) => i.InstanceId) } : {};
    api
      .call<Reach>('vpc', 'DescribeVpcReachability', { ...params, ...ordered })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'ResourceNotFound' && 'InstanceIds' in ordered) return api.call<Reach>('vpc', 'DescribeVpcReachability', params);
        throw e;
      })
      .then(
        (r) => {
          setReach(r);
          merge(r.InstanceSet.map((i) => [i.InstanceId, i.HostId] as [string, string]));
        },
        (e: unknown) => {
          setReach(undefined);
          setReachError(e);
        },
      )
      .finally(() => setBusy(false));
  };

  const highlight = useMemo(() => (trace && graph ? highlightAll(trace, graph, vpcId) : emptyHighlight()), [trace, graph, vpcId]);
  // The matrix's labels: names, with the address where a name is not unique (a batch launch shares one).
  const names = useMemo(() => {
    const count = new Map<string, number>();
    for (const i of instances) count.set(i.InstanceName, (count.get(i.InstanceName) ?? 0) + 1);
    return new Map(instances.map((i) => [i.InstanceId, count.get(i.InstanceName)! > 1 || !i.InstanceName ? `${i.InstanceName} ${i.PrivateIpAddresses[0] ?? ''}`.trim() : i.InstanceName]));
  }, [instances]);
  const pickHop = (h: Hop) => {
    if (!graph) return;
    setSelected(decidingNode(h, new Set(graph.nodes.map((n) => n.id)), vpcId));
  };

  if (error && !topo) return <ErrorBox error={error} />;
  if (!topo || !graph) return <div className="muted">{t('Loading…')}</div>;
  return (
    <div className="page topology" data-vpc={vpcId}>
      <div className="topo-head">
        <strong>{topo.vpc.VpcName || vpcId}</strong>
        <span className="muted">
          {vpcId} · {topo.vpc.CidrBlock} · {topo.subnets.length} subnets · {topo.instancesTotal} instances
        </span>
        {topo.instancesTotal > topo.instances.length && (
          <span className="muted">
            {t('Drawing the first')} {topo.instances.length} {t('instances of')} {topo.instancesTotal}
          </span>
        )}
        <a href="#/topology">{t('Other VPCs')}</a>
      </div>
      <ErrorBox error={error} />
      {topo.skipped.map((s) => (
        <div key={s.what} className="topo-skipped" data-skipped={s.what}>
          <span className="muted">
            {t('Not drawn')}: {s.what}
          </span>
          <ErrorBox error={s.error} />
        </div>
      ))}
      <TraceForm instances={instances} flow={flow} onChange={setFlow} onTrace={() => runTrace(flow)} onMatrix={runMatrix} busy={busy} />
      <ErrorBox error={traceError} />
      <ErrorBox error={reachError} />
      <div className="topo-main" ref={mainRef}>
        {placed ? (
          <TopologyGraph key={placed.key} graph={graph} positions={placed.positions} highlight={highlight} selected={selected} onSelect={setSelected} />
        ) : (
          <div className="topo-canvas muted">{layoutError ? <ErrorBox error={layoutError} /> : t('Laying out…')}</div>
        )}
        <aside className="topo-side">
          {trace && <TracePath result={trace} onPick={pickHop} />}
          <DetailsPanel
            node={graph.nodes.find((n) => n.id === selected)}
            onFrom={(id) => setFlow({ ...flow, SourceInstanceId: id })}
            onTo={(id) => setFlow({ ...flow, DestinationInstanceId: id, DestinationIpAddress: '' })}
          />
        </aside>
      </div>
      {reach && (
        <ReachabilityMatrix
          reach={reach}
          names={names}
          picked={picked}
          onPick={(from, to) => {
            const f = { ...flow, SourceInstanceId: from, DestinationInstanceId: to, DestinationIpAddress: '' };
            if (reach.Protocol === 'ICMP' || reach.Protocol === 'TCP' || reach.Protocol === 'UDP') f.Protocol = reach.Protocol;
            if (reach.Port !== undefined) f.Port = String(reach.Port);
            setFlow(f);
            setPicked([from, to]);
            runTrace(f);
            mainRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
          }}
        />
      )}
    </div>
  );
}
