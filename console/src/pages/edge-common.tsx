/**
 * Pieces the edge pages (EIPs, NAT gateways, load balancers, flow logs,
 * metrics) share: a state badge, an ID box that suggests resources found on
 * the server as the user types, a details panel, and the progress of an
 * asynchronous task.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import type { Api } from '../api';
import { addZh, useT } from '../i18n';
import { ErrorBox, nameFilter, useApi, usePolled } from '../ui';

addZh({
  'Close': '关闭',
  'Task': '任务',
  'Succeeded': '成功',
  'Failed': '失败',
  'Running': '进行中',
});

/** A state as the tests and the stylesheet find it: `<span class="state-AVAILABLE">`. */
export const State = ({ state }: { state: string }) => <span className={`state-${state}`}>{state}</span>;

/** What a suggestion box can look up, each by the action's own name filter (one page of it, never all). */
export type SuggestKind = 'vpc' | 'subnet' | 'instance' | 'nat';

interface Suggestion {
  value: string;
  label: string;
}

async function suggest(api: Api, kind: SuggestKind, text: string, scope?: Record<string, string>): Promise<Suggestion[]> {
  const Limit = 20;
  // An ID typed in full is looked up as is; anything else is a name to search for.
  const byId = (prefix: string) => new RegExp(`^${prefix}-[0-9a-z]{8}$`).test(text);
  const scoped = (name: string) => (scope?.[name] ? [{ Name: name, Values: [scope[name]] }] : []);
  if (kind === 'vpc') {
    const r = await api.call<{ VpcSet: { VpcId: string; VpcName: string; CidrBlock: string }[] }>('vpc', 'DescribeVpcs', {
      Limit: String(Limit),
      Filters: byId('vpc') ? [{ Name: 'vpc-id', Values: [text] }] : nameFilter('vpc-name', text),
    });
    return r.VpcSet.map((v) => ({ value: v.VpcId, label: `${v.VpcName} ${v.CidrBlock}` }));
  }
  if (kind === 'subnet') {
    const r = await api.call<{ SubnetSet: { SubnetId: string; SubnetName: string; CidrBlock: string }[] }>('vpc', 'DescribeSubnets', {
      Limit: String(Limit),
      Filters: [...scoped('vpc-id'), ...(byId('subnet') ? [{ Name: 'subnet-id', Values: [text] }] : (nameFilter('subnet-name', text) ?? []))],
    });
    return r.SubnetSet.map((s) => ({ value: s.SubnetId, label: `${s.SubnetName} ${s.CidrBlock}` }));
  }
  if (kind === 'nat') {
    const r = await api.call<{ NatGatewaySet: { NatGatewayId: string; NatGatewayName: string }[] }>('vpc', 'DescribeNatGateways', {
      Limit: Limit,
      Filters: byId('nat') ? [{ Name: 'nat-gateway-id', Values: [text] }] : nameFilter('nat-gateway-name', text),
    });
    return r.NatGatewaySet.map((n) => ({ value: n.NatGatewayId, label: n.NatGatewayName }));
  }
  const r = await api.call<{ InstanceSet: { InstanceId: string; InstanceName: string; PrivateIpAddresses: string[] }[] }>(
    'cvm',
    'DescribeInstances',
    {
      Limit,
      Filters: [...scoped('vpc-id'), ...(byId('ins') ? [{ Name: 'instance-id', Values: [text] }] : (nameFilter('instance-name', text) ?? []))],
    },
  );
  return r.InstanceSet.map((i) => ({ value: i.InstanceId, label: `${i.InstanceName} ${i.PrivateIpAddresses?.[0] ?? ''}` }));
}

/**
 * A text input for a resource ID (form field `name`) that offers, as the user
 * types, the matching resources of one page of the server's answer. The value
 * sent is what is typed: an ID pasted in works as well.
 */
export function IdInput(p: { name: string; kind: SuggestKind; placeholder?: string; defaultValue?: string; scope?: Record<string, string>; onChange?: (v: string) => void }) {
  const api = useApi();
  const list = useId();
  const [text, setText] = useState(p.defaultValue ?? '');
  const [options, setOptions] = useState<Suggestion[]>([]);
  const scopeKey = JSON.stringify(p.scope ?? {});
  useEffect(() => {
    // Asked a moment after the last keystroke, so typing a name costs one request, not one per letter.
    const timer = setTimeout(() => {
      suggest(api, p.kind, text.trim(), p.scope).then(setOptions, () => setOptions([]));
    }, 250);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, p.kind, text, scopeKey]);
  return (
    <>
      <input
        name={p.name}
        list={list}
        placeholder={p.placeholder}
        value={text}
        autoComplete="off"
        onChange={(e) => {
          setText(e.target.value);
          p.onChange?.(e.target.value);
        }}
      />
      <datalist id={list}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </datalist>
    </>
  );
}

/** A labelled field of a hand-made form, laid out as ActionForm's are. */
export const FieldBox = ({ label, children }: { label: string; children: ReactNode }) => {
  const t = useT();
  return (
    <label>
      <span>{t(label)}</span>
      {children}
    </label>
  );
};

/** The panel of one selected resource, under its list; `testId` is `<resource>-details`. */
export function Details(p: { testId: string; title: ReactNode; onClose: () => void; children: ReactNode }) {
  const t = useT();
  return (
    <section className="card details" data-testid={p.testId}>
      <div className="details-head">
        <h3>{p.title}</h3>
        <button className="link" onClick={p.onClose}>
          {t('Close')}
        </button>
      </div>
      {p.children}
    </section>
  );
}

/** Key–value lines of a details panel. */
export const Facts = ({ items }: { items: [string, ReactNode][] }) => {
  const t = useT();
  return (
    <dl className="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{t(k)}</dt>
          <dd>{v ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
};

const TASK_STATES = ['SUCCESS', 'FAILED', 'RUNNING'] as const;

/**
 * The progress of a clb task (DescribeTaskStatus: 0 success, 1 failed, 2
 * running), polled each second until it ends; `onEnd` runs once then, so the
 * page reloads what the task changed.
 */
export function TaskProgress({ taskId, label, onEnd }: { taskId: string; label: string; onEnd?: () => void }) {
  const api = useApi();
  const t = useT();
  const [ended, setEnded] = useState(false);
  const { value, error } = usePolled(
    () => api.call<{ Status: number; Message: string }>('clb', 'DescribeTaskStatus', { TaskId: taskId }),
    [taskId],
    ended ? 0 : 1000,
  );
  const state = value ? TASK_STATES[value.Status] ?? 'RUNNING' : 'RUNNING';
  useEffect(() => {
    if (value && state !== 'RUNNING' && !ended) {
      setEnded(true);
      onEnd?.();
    }
  }, [value, state, ended, onEnd]);
  return (
    <div className="task" data-testid="task" data-task={taskId} data-state={state}>
      <span className="muted">
        {t('Task')} {label}
      </span>{' '}
      <span className={`state-${state}`}>{t(state === 'SUCCESS' ? 'Succeeded' : state === 'FAILED' ? 'Failed' : 'Running')}</span>
      {state === 'RUNNING' && <progress />}
      {value?.Message && <span className="muted"> {value.Message}</span>}
      <ErrorBox error={error} />
    </div>
  );
}
