/**
 * The tracer's form and its answer: which flow to trace (TraceVpcFlow's own
 * parameter names), then the hops one by one with the rule that decided each
 * security-group, ACL and route hop, and the verdict.
 */
import { addZh, useT } from '../i18n';
import type { Instance } from './model';
import { decidingRule, type Hop, type TraceResult } from './trace';

addZh({
  Trace: '追踪',
  'Trace a packet': '追踪数据包',
  Source: '源',
  Destination: '目的',
  'Destination IP': '目的IP',
  '— by IP address —': '— 按IP地址 —',
  Protocol: '协议',
  Port: '端口',
  'Trace the reply too': '同时追踪回包',
  Request: '请求',
  Reply: '回包',
  'Reachability matrix': '可达性矩阵',
});

/** The form's values, named as TraceVpcFlow names its parameters. */
export interface Flow {
  SourceInstanceId: string;
  DestinationInstanceId: string;
  DestinationIpAddress: string;
  Protocol: 'TCP' | 'UDP' | 'ICMP';
  Port: string;
  Reply: boolean;
}

/** TraceVpcFlow's parameters for a flow: the IP address, when given, names the destination. */
export function traceParams(f: Flow): Record<string, unknown> {
  const ip = f.DestinationIpAddress.trim();
  return {
    SourceInstanceId: f.SourceInstanceId,
    ...(ip ? { DestinationIpAddress: ip } : { DestinationInstanceId: f.DestinationInstanceId }),
    Protocol: f.Protocol,
    ...(f.Protocol === 'ICMP' ? {} : { Port: Number(f.Port) }),
    ...(f.Reply ? { Reply: true } : {}),
  };
}

const label = (i: Instance) => `${i.InstanceName || i.InstanceId} (${i.PrivateIpAddresses[0] ?? ''}) ${i.InstanceId}`;

export function TraceForm(p: { instances: Instance[]; flow: Flow; onChange: (f: Flow) => void; onTrace: () => void; onMatrix: () => void; busy: boolean }) {
  const t = useT();
  const { flow } = p;
  const set = (patch: Partial<Flow>) => p.onChange({ ...flow, ...patch });
  const instanceOptions = p.instances.map((i) => (
    <option key={i.InstanceId} value={i.InstanceId}>
      {label(i)}
    </option>
  ));
  return (
    <form
      className="card form trace-form"
      data-testid="trace-form"
      onSubmit={(e) => {
        e.preventDefault();
        p.onTrace();
      }}
    >
      <h3>{t('Trace a packet')}</h3>
      <label>
        <span>{t('Source')}</span>
        <select name="SourceInstanceId" value={flow.SourceInstanceId} onChange={(e) => set({ SourceInstanceId: e.target.value })}>
          {instanceOptions}
        </select>
      </label>
      <label>
        <span>{t('Destination')}</span>
        <select name="DestinationInstanceId" value={flow.DestinationIpAddress ? '' : flow.DestinationInstanceId} onChange={(e) => set({ DestinationInstanceId: e.target.value, DestinationIpAddress: '' })}>
          <option value="">{t('— by IP address —')}</option>
          {instanceOptions}
        </select>
      </label>
      <label>
        <span>{t('Destination IP')}</span>
        <input name="DestinationIpAddress" placeholder="10.0.2.7" value={flow.DestinationIpAddress} onChange={(e) => set({ DestinationIpAddress: e.target.value })} size={14} />
      </label>
      <label>
        <span>{t('Protocol')}</span>
        <select name="Protocol" value={flow.Protocol} onChange={(e) => set({ Protocol: e.target.value as Flow['Protocol'] })}>
          <option>TCP</option>
          <option>UDP</option>
          <option>ICMP</option>
        </select>
      </label>
      <label>
        <span>{t('Port')}</span>
        <input name="Port" value={flow.Protocol === 'ICMP' ? '' : flow.Port} disabled={flow.Protocol === 'ICMP'} onChange={(e) => set({ Port: e.target.value })} size={6} />
      </label>
      <label className="check">
        <input type="checkbox" name="Reply" checked={flow.Reply} onChange={(e) => set({ Reply: e.target.checked })} />
        <span>{t('Trace the reply too')}</span>
      </label>
      <button type="submit" disabled={p.busy || !flow.SourceInstanceId} data-testid="trace-run">
        {t('Trace')}
      </button>
      <button type="button" className="secondary" disabled={p.busy} onClick={p.onMatrix} data-testid="reachability-run">
        {t('Reachability matrix')}
      </button>
    </form>
  );
}

function HopItem({ hop, n, onPick }: { hop: Hop; n: number; onPick?: (h: Hop) => void }) {
  const rule = decidingRule(hop);
  return (
    <li data-hop={hop.Stage} data-result={hop.Result} className={`hop hop-${hop.Result}`} onClick={onPick ? () => onPick(hop) : undefined}>
      <div className="hop-head">
        <span className="hop-n">{n}</span>
        <span className="hop-stage">{hop.Stage}</span>
        <span className={`hop-result result-${hop.Result}`}>{hop.Result}</span>
        <span className="muted">{hop.HostId}</span>
      </div>
      <div className="hop-summary">{hop.Summary}</div>
      {rule && <div className="hop-rule">{rule}</div>}
    </li>
  );
}

function Verdict({ r, testId }: { r: TraceResult; testId: string }) {
  const ok = r.Verdict === 'delivered' || r.Verdict === 'answered' || r.Verdict === 'forwarded';
  return (
    <div className={`verdict ${ok ? 'verdict-ok' : 'verdict-drop'}`} data-testid={testId} data-verdict={r.Verdict} data-code={r.Code}>
      <strong>{r.Verdict}</strong> ({r.Code})<div className="verdict-reason">{r.Reason}</div>
    </div>
  );
}

/** The hops of a trace and its verdict; the reply's, when it was traced, under them. */
export function TracePath({ result, onPick }: { result: TraceResult; onPick?: (h: Hop) => void }) {
  const t = useT();
  const flow = (x: TraceResult) =>
    `${x.Packet.Protocol} ${x.Packet.Src}${x.Packet.SrcPort ? `:${x.Packet.SrcPort}` : ''} → ${x.Packet.Dst}${x.Packet.DstPort ? `:${x.Packet.DstPort}` : ''}`;
  return (
    <div className="trace-result">
      <Verdict r={result} testId="trace-verdict" />
      <div className="muted">
        {t('Request')}: {flow(result)}
        {result.Destination.Note ? ` — ${result.Destination.Note}` : ''}
        {result.PendingHostSet?.length ? ` — pending: ${result.PendingHostSet.map((h) => h.HostId).join(', ')}` : ''}
      </div>
      <ol className="hops" data-testid="trace-path">
        {result.Hops.map((h, i) => (
          <HopItem key={i} hop={h} n={i + 1} onPick={onPick} />
        ))}
      </ol>
      {result.Reply && (
        <>
          <h4>
            {t('Reply')}: {flow(result.Reply)}
          </h4>
          <Verdict r={result.Reply} testId="trace-reply-verdict" />
          <ol className="hops" data-testid="trace-reply-path">
            {result.Reply.Hops.map((h, i) => (
              <HopItem key={i} hop={h} n={i + 1} onPick={onPick} />
            ))}
          </ol>
        </>
      )}
      {result.ReplySkipped && <div className="muted">{result.ReplySkipped}</div>}
    </div>
  );
}
