/**
 * Load balancers (clb): the list (paged and filtered on the server), create,
 * delete, and per load balancer (#/load-balancers/lb-…) its listeners, the
 * targets of the selected listener with their health, and the progress of
 * every task the page started (creating, listener and target changes are
 * asynchronous: DescribeTaskStatus until it ends; meanwhile the load balancer
 * refuses other changes).
 */
import { useCallback, useState } from 'react';
import { addZh, useT } from '../i18n';
import { ActionButton, ErrorBox, FormCard, ResourceTable, useApi, usePolled } from '../ui';
import { Details, Facts, FieldBox, IdInput, State, TaskProgress } from './edge-common';

addZh({
  'Create load balancer': '新建负载均衡',
  'Type': '类型',
  'VIP': 'VIP',
  'Subnet (INTERNAL only)': '子网（仅内网型）',
  'Listeners': '监听器',
  'Create listener': '新建监听器',
  'Ports (comma-separated)': '端口（逗号分隔）',
  'Listener name': '监听器名称',
  'Health check': '健康检查',
  'Interval (s)': '检查间隔（秒）',
  'Check type': '检查方式',
  'Targets': '后端服务',
  'Register target': '绑定后端服务',
  'Register': '绑定',
  'Deregister': '解绑',
  'Port': '端口',
  'Weight': '权重',
  'Health': '健康状态',
  'Tasks': '任务',
  'Targets of': '后端服务：',
  'Select a listener to see its targets.': '选择一个监听器以查看后端服务。',
  'Creating': '创建中',
  'Normal': '正常',
});

interface LoadBalancer {
  LoadBalancerId: string;
  LoadBalancerName: string;
  LoadBalancerType: string;
  LoadBalancerVips: string[];
  Status: number;
  VpcId: string;
  SubnetId: string | null;
  CreateTime: string;
}

/** Status 0 is creating (its task runs), 1 normal. */
const lbState = (s: number) => (s === 0 ? 'CREATING' : 'NORMAL');

interface Task {
  id: string;
  label: string;
}

/** The tasks a page started, newest first; each shows its progress until dismissed with the page. */
function useTasks() {
  const [tasks, setTasks] = useState<Task[]>([]);
  const add = useCallback((id: string, label: string) => setTasks((ts) => [{ id, label }, ...ts].slice(0, 5)), []);
  return { tasks, add };
}

function Tasks({ tasks, onEnd }: { tasks: Task[]; onEnd: () => void }) {
  if (!tasks.length) return null;
  return (
    <div className="card tasks" data-testid="tasks">
      {tasks.map((t) => (
        <TaskProgress key={t.id} taskId={t.id} label={t.label} onEnd={onEnd} />
      ))}
    </div>
  );
}

export function LoadBalancersPage({ params }: { params: string[] }) {
  const api = useApi();
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const { tasks, add } = useTasks();
  const [vpc, setVpc] = useState('');
  const selected = params[0];
  return (
    <div className="page">
      <FormCard
        testId="create-load-balancer"
        title="Create load balancer"
        submit={async (v) => {
          const r = await api.call<{ LoadBalancerIds: string[]; DealName: string }>('clb', 'CreateLoadBalancer', {
            LoadBalancerType: v.LoadBalancerType,
            LoadBalancerName: v.LoadBalancerName || undefined,
            VpcId: v.VpcId || undefined,
            SubnetId: v.SubnetId || undefined,
          });
          add(r.DealName, `CreateLoadBalancer ${r.LoadBalancerIds.join(', ')}`);
        }}
        onDone={bump}
      >
        <FieldBox label="Name">
          <input name="LoadBalancerName" placeholder="web-lb" />
        </FieldBox>
        <FieldBox label="Type">
          <select name="LoadBalancerType">
            <option>OPEN</option>
            <option>INTERNAL</option>
          </select>
        </FieldBox>
        <FieldBox label="VPC">
          <IdInput name="VpcId" kind="vpc" placeholder="vpc-…" onChange={setVpc} />
        </FieldBox>
        <FieldBox label="Subnet (INTERNAL only)">
          <IdInput name="SubnetId" kind="subnet" placeholder="subnet-…" scope={vpc ? { 'vpc-id': vpc } : undefined} />
        </FieldBox>
      </FormCard>
      <ResourceTable<LoadBalancer>
        testId="load-balancers"
        deps={[version]}
        rowKey={(r) => r.LoadBalancerId}
        searchPlaceholder="Name contains…"
        onSelect={(r) => (location.hash = `#/load-balancers/${r.LoadBalancerId}`)}
        load={async (Offset, Limit, search) => {
          const by = /^lb-[0-9a-z]{8}$/.test(search) ? { LoadBalancerIds: [search] } : search ? { LoadBalancerName: search } : {};
          const r = await api.call<{ LoadBalancerSet: LoadBalancer[]; TotalCount: number }>('clb', 'DescribeLoadBalancers', { Offset, Limit, ...by });
          return { rows: r.LoadBalancerSet, total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => <a href={`#/load-balancers/${r.LoadBalancerId}`}>{r.LoadBalancerId}</a> },
          { title: 'Name', render: (r) => r.LoadBalancerName },
          { title: 'State', render: (r) => <State state={lbState(r.Status)} /> },
          { title: 'Type', render: (r) => r.LoadBalancerType },
          { title: 'VIP', render: (r) => r.LoadBalancerVips.join(', ') },
          { title: 'VPC', render: (r) => r.VpcId },
          { title: 'Created', render: (r) => r.CreateTime },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Delete"
                testId={`delete-${r.LoadBalancerId}`}
                run={async () => {
                  const d = await api.call<{ RequestId: string }>('clb', 'DeleteLoadBalancer', { LoadBalancerIds: [r.LoadBalancerId] });
                  add(d.RequestId, `DeleteLoadBalancer ${r.LoadBalancerId}`);
                  if (selected === r.LoadBalancerId) location.hash = '#/load-balancers';
                }}
                onDone={bump}
              />
            ),
          },
        ]}
      />
      <Tasks tasks={tasks} onEnd={bump} />
      {selected && <LbDetails id={selected} version={version} onTask={add} onChange={bump} />}
    </div>
  );
}

interface HealthCheck {
  HealthSwitch: number;
  CheckType: string;
  IntervalTime: number;
}

interface Listener {
  ListenerId: string;
  ListenerName: string;
  Protocol: string;
  Port: number;
  HealthCheck: HealthCheck | null;
  CreateTime: string;
}

type OnTask = (id: string, label: string) => void;

function LbDetails({ id, version, onTask, onChange }: { id: string; version: number; onTask: OnTask; onChange: () => void }) {
  const api = useApi();
  const t = useT();
  const [listener, setListener] = useState<Listener>();
  const { value, error } = usePolled(() => api.call<{ LoadBalancerSet: LoadBalancer[] }>('clb', 'DescribeLoadBalancers', { LoadBalancerIds: [id] }), [id, version]);
  const lb = value?.LoadBalancerSet[0];
  // A listener change is a task of the load balancer: its id is the RequestId of the call.
  const track = (label: string) => (r: { RequestId: string }) => onTask(r.RequestId, label);
  if (error) return <ErrorBox error={error} />;
  if (!lb) return null;
  return (
    <Details testId="load-balancer-details" title={`${lb.LoadBalancerId} · ${lb.LoadBalancerName}`} onClose={() => (location.hash = '#/load-balancers')}>
      <Facts
        items={[
          ['State', <State state={lbState(lb.Status)} />],
          ['Type', lb.LoadBalancerType],
          ['VIP', lb.LoadBalancerVips.join(', ')],
          ['VPC', lb.VpcId],
          ['Subnet (INTERNAL only)', lb.SubnetId],
        ]}
      />
      <h4>{t('Listeners')}</h4>
      <FormCard
        testId="create-listener"
        title="Create listener"
        submit={async (v) => {
          const ports = v.Ports!.split(/[\s,]+/).filter(Boolean).map(Number);
          const r = await api.call<{ RequestId: string; ListenerIds: string[] }>('clb', 'CreateListener', {
            LoadBalancerId: lb.LoadBalancerId,
            Ports: ports,
            Protocol: v.Protocol,
            // One name per port, in order: the name given, numbered when there are several ports.
            ListenerNames: v.ListenerName ? ports.map((p, i) => (ports.length > 1 ? `${v.ListenerName}-${i + 1}` : v.ListenerName!)) : undefined,
            HealthCheck: {
              HealthSwitch: v.HealthSwitch ? 1 : 0,
              IntervalTime: Number(v.IntervalTime || 5),
              CheckType: v.Protocol === 'UDP' ? 'PING' : 'TCP',
            },
          });
          track(`CreateListener ${r.ListenerIds.join(', ')}`)(r);
        }}
        onDone={onChange}
      >
        <FieldBox label="Listener name">
          <input name="ListenerName" placeholder="tcp-80" />
        </FieldBox>
        <FieldBox label="Protocol">
          <select name="Protocol">
            <option>TCP</option>
            <option>UDP</option>
          </select>
        </FieldBox>
        <FieldBox label="Ports (comma-separated)">
          <input name="Ports" placeholder="80" />
        </FieldBox>
        <FieldBox label="Health check">
          <input type="checkbox" name="HealthSwitch" defaultChecked />
        </FieldBox>
        <FieldBox label="Interval (s)">
          <input name="IntervalTime" defaultValue="5" size={4} />
        </FieldBox>
      </FormCard>
      <ResourceTable<Listener>
        testId="listeners"
        deps={[lb.LoadBalancerId, version]}
        rowKey={(r) => r.ListenerId}
        searchPlaceholder="Port…"
        onSelect={setListener}
        load={async (Offset, Limit, search) => {
          // A load balancer has at most 50 listeners and DescribeListeners answers them all; the port filter is the server's.
          const r = await api.call<{ Listeners: Listener[]; TotalCount: number }>('clb', 'DescribeListeners', {
            LoadBalancerId: lb.LoadBalancerId,
            ...(/^\d+$/.test(search) ? { Port: Number(search) } : {}),
          });
          return { rows: r.Listeners.slice(Offset, Offset + Limit), total: r.TotalCount };
        }}
        columns={[
          { title: 'ID', render: (r) => r.ListenerId },
          { title: 'Name', render: (r) => r.ListenerName },
          { title: 'Protocol', render: (r) => r.Protocol },
          { title: 'Port', render: (r) => r.Port },
          { title: 'Health check', render: (r) => (r.HealthCheck?.HealthSwitch ? `${r.HealthCheck.CheckType} / ${r.HealthCheck.IntervalTime} s` : 'off') },
          { title: 'Created', render: (r) => r.CreateTime },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Delete"
                testId={`delete-${r.ListenerId}`}
                run={() => api.call<{ RequestId: string }>('clb', 'DeleteListener', { LoadBalancerId: lb.LoadBalancerId, ListenerId: r.ListenerId }).then(track(`DeleteListener ${r.ListenerId}`))}
                onDone={() => (listener?.ListenerId === r.ListenerId && setListener(undefined), onChange())}
              />
            ),
          },
        ]}
      />
      {listener ? (
        <ListenerTargets lb={lb} listener={listener} version={version} track={track} onChange={onChange} />
      ) : (
        <p className="muted">{t('Select a listener to see its targets.')}</p>
      )}
    </Details>
  );
}

interface Target {
  InstanceId: string;
  InstanceName: string | null;
  Port: number;
  Weight: number;
  PrivateIpAddresses: string[];
}

interface TargetHealth {
  TargetId: string;
  Port: number;
  HealthStatus: boolean;
  HealthStatusDetail: string;
}

/** The targets of one listener (DescribeTargets) with what the LB nodes' checks say of each (DescribeTargetHealth). */
function ListenerTargets(p: { lb: LoadBalancer; listener: Listener; version: number; track: (label: string) => (r: { RequestId: string }) => void; onChange: () => void }) {
  const api = useApi();
  const t = useT();
  const { lb, listener } = p;
  const health = usePolled(async () => {
    const r = await api.call<{ LoadBalancers: { Listeners: { ListenerId: string; Rules: { Targets: TargetHealth[] }[] }[] }[] }>('clb', 'DescribeTargetHealth', {
      LoadBalancerIds: [lb.LoadBalancerId],
      ListenerIds: [listener.ListenerId],
    });
    const out = new Map<string, TargetHealth>();
    for (const l of r.LoadBalancers[0]?.Listeners ?? []) for (const rule of l.Rules ?? []) for (const x of rule.Targets ?? []) out.set(`${x.TargetId}:${x.Port}`, x);
    return out;
  }, [lb.LoadBalancerId, listener.ListenerId, p.version]);
  return (
    <>
      <h4>
        {t('Targets of')} {listener.Protocol}:{listener.Port} ({listener.ListenerId})
      </h4>
      <FormCard
        testId="register-targets"
        title="Register target"
        submitLabel="Register"
        submit={async (v) => {
          const r = await api.call<{ RequestId: string }>('clb', 'RegisterTargets', {
            LoadBalancerId: lb.LoadBalancerId,
            ListenerId: listener.ListenerId,
            Targets: [{ InstanceId: v.InstanceId, Port: Number(v.Port), Weight: Number(v.Weight || 10) }],
          });
          p.track(`RegisterTargets ${v.InstanceId}:${v.Port}`)(r);
        }}
        onDone={p.onChange}
      >
        <FieldBox label="Instance">
          <IdInput name="InstanceId" kind="instance" placeholder="ins-…" scope={{ 'vpc-id': lb.VpcId }} />
        </FieldBox>
        <FieldBox label="Port">
          <input name="Port" defaultValue={String(listener.Port)} size={6} />
        </FieldBox>
        <FieldBox label="Weight">
          <input name="Weight" defaultValue="10" size={4} />
        </FieldBox>
      </FormCard>
      <ErrorBox error={health.error} />
      <ResourceTable<Target>
        testId="targets"
        deps={[lb.LoadBalancerId, listener.ListenerId, p.version]}
        rowKey={(r) => `${r.InstanceId}:${r.Port}`}
        searchPlaceholder="Private address…"
        load={async (Offset, Limit, search) => {
          // At most a listener's targets, filtered by address on the server.
          const r = await api.call<{ Listeners: { ListenerId: string; Targets: Target[] | null }[] }>('clb', 'DescribeTargets', {
            LoadBalancerId: lb.LoadBalancerId,
            ListenerIds: [listener.ListenerId],
            Filters: search ? [{ Name: 'private-ip-address', Values: [search] }] : undefined,
          });
          const all = r.Listeners.find((l) => l.ListenerId === listener.ListenerId)?.Targets ?? [];
          return { rows: all.slice(Offset, Offset + Limit), total: all.length };
        }}
        columns={[
          { title: 'Instance', render: (r) => `${r.InstanceId}${r.InstanceName ? ` (${r.InstanceName})` : ''}` },
          { title: 'Private address', render: (r) => r.PrivateIpAddresses.join(', ') },
          { title: 'Port', render: (r) => r.Port },
          { title: 'Weight', render: (r) => r.Weight },
          {
            title: 'Health',
            render: (r) => {
              const h = health.value?.get(`${r.InstanceId}:${r.Port}`);
              return h ? <span className={`health-${h.HealthStatus ? 'up' : 'down'}`} data-health={h.HealthStatusDetail}>{h.HealthStatusDetail}</span> : '…';
            },
          },
          {
            title: '',
            render: (r) => (
              <ActionButton
                label="Deregister"
                testId={`deregister-${r.InstanceId}-${r.Port}`}
                run={() =>
                  api
                    .call<{ RequestId: string }>('clb', 'DeregisterTargets', {
                      LoadBalancerId: lb.LoadBalancerId,
                      ListenerId: listener.ListenerId,
                      Targets: [{ InstanceId: r.InstanceId, Port: r.Port }],
                    })
                    .then(p.track(`DeregisterTargets ${r.InstanceId}:${r.Port}`))
                }
                onDone={p.onChange}
              />
            ),
          },
        ]}
      />
    </>
  );
}
