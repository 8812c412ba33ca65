/**
 * One security group: its ingress and egress policies in order (first match
 * decides, so the order is the meaning), a form to add a policy at a
 * position, and deleting one — each change previewable before it is sent.
 *
 * The preview is the Weft extension PreviewSecurityGroupPolicyChange
 * (docs/trace.md): it takes the action's name and the exact request body the
 * console would send, applies nothing, and answers which flows between the
 * group's instances and the rest of their VPC would change verdict. The body
 * carries the group's Version, so the save is refused
 * (UnsupportedOperation.VersionMismatch) if someone changed the group since
 * the preview was read — what was previewed is what is saved.
 */
import { useRef, useState } from 'react';
import { addZh, useT } from '../i18n';
import { BackLink, ChoiceField, TextField } from '../pickers';
import { ActionButton, ErrorBox, formValues, useApi, usePolled } from '../ui';

addZh({
  'Security group': '安全组',
  'Ingress': '入站规则',
  'Egress': '出站规则',
  'Add policy': '添加规则',
  'Direction': '方向',
  'Position (optional)': '位置（可选）',
  'Protocol': '协议',
  'Port': '端口',
  'Source / destination': '来源/目标',
  'Action': '策略',
  'Modified': '修改时间',
  'Preview delete': '预览删除',
  'Preview of': '预览',
  'Changed flows': '变化的流',
  'No flow changes its verdict.': '没有流的结果发生变化。',
  'flows checked': '条流已检查',
  'Bound instances': '绑定的实例',
  'Before': '之前',
  'After': '之后',
  'No policies': '暂无规则',
  'Move up': '上移',
  'Move down': '下移',
  'Apply this change': '应用此变更',
});

export interface Policy {
  PolicyIndex: number;
  Protocol: string;
  Port: string;
  CidrBlock: string;
  SecurityGroupId: string;
  Action: string;
  PolicyDescription: string;
  ModifyTime: string;
}
interface PolicySet {
  Version: string;
  Ingress: Policy[];
  Egress: Policy[];
}
type Direction = 'Ingress' | 'Egress';
/** A policy action's request body, as sent and as previewed. */
export interface PolicyRequest {
  SecurityGroupId: string;
  SecurityGroupPolicySet: { Version: string } & Partial<Record<Direction, Record<string, unknown>[]>>;
  OriginalSecurityGroupPolicySet?: Partial<Record<Direction, Record<string, unknown>[]>>;
  UpdateType?: 'Policy' | 'Priority' | 'Both';
}

interface Verdict {
  Verdict: string;
  Code: string;
  Reason: string;
  SecurityGroupId?: string;
  PolicyIndex?: number;
}
interface ChangedFlow {
  VpcId: string;
  SourceInstanceId: string;
  SourceIpAddress: string;
  DestinationInstanceId: string;
  DestinationIpAddress: string;
  Protocol: string;
  Port?: number;
  Before: Verdict;
  After: Verdict;
}
interface PreviewResult {
  BoundInstanceIds: string[];
  FlowsChecked: number;
  ChangedFlowSet: ChangedFlow[];
  Note?: string;
}
/** A change to preview and perhaps apply: the action and the exact body it sends. */
interface Change {
  what: string;
  action: string;
  request: PolicyRequest;
}
/** What the preview panel shows: the change, and the preview's answer or its error. */
interface Preview extends Change {
  result?: PreviewResult;
  error?: unknown;
}

/** The body of CreateSecurityGroupPolicies for one new policy from the form. A peer starting `sg-` is a group reference. */
export function createRequest(sg: string, version: string, v: Record<string, string>): PolicyRequest {
  const dir: Direction = v.Direction === 'egress' ? 'Egress' : 'Ingress';
  const peer = v.CidrBlock ?? '';
  const policy: Record<string, unknown> = {
    ...(v.PolicyIndex ? { PolicyIndex: Number(v.PolicyIndex) } : {}),
    Protocol: v.Protocol,
    ...(v.Port ? { Port: v.Port } : {}),
    ...(peer.startsWith('sg-') ? { SecurityGroupId: peer } : { CidrBlock: peer }),
    Action: v.Action,
    ...(v.PolicyDescription ? { PolicyDescription: v.PolicyDescription } : {}),
  };
  return { SecurityGroupId: sg, SecurityGroupPolicySet: { Version: version, [dir]: [policy] } };
}

/** The body of DeleteSecurityGroupPolicies for the policy at `index` of `dir`. */
export const deleteRequest = (sg: string, version: string, dir: Direction, index: number): PolicyRequest => ({
  SecurityGroupId: sg,
  SecurityGroupPolicySet: { Version: version, [dir]: [{ PolicyIndex: index }] },
});

/** A policy's content as a request carries it (one peer: the CIDR or the referenced group). */
const content = (p: Policy) => ({
  Protocol: p.Protocol,
  Port: p.Port,
  ...(p.SecurityGroupId ? { SecurityGroupId: p.SecurityGroupId } : { CidrBlock: p.CidrBlock }),
  Action: p.Action,
  PolicyDescription: p.PolicyDescription,
});

/** The body of ReplaceSecurityGroupPolicies (UpdateType Priority) moving one policy to position `to`; the others keep their order. */
export const moveRequest = (sg: string, version: string, dir: Direction, p: Policy, to: number): PolicyRequest => ({
  SecurityGroupId: sg,
  SecurityGroupPolicySet: { Version: version, [dir]: [{ ...content(p), PolicyIndex: to }] },
  OriginalSecurityGroupPolicySet: { [dir]: [{ ...content(p), PolicyIndex: p.PolicyIndex }] },
  UpdateType: 'Priority',
});

export function SecurityGroupDetails({ id }: { id: string }) {
  const api = useApi();
  const t = useT();
  const group = usePolled(
    () =>
      api
        .call<{ SecurityGroupSet: { SecurityGroupName: string; SecurityGroupDesc: string }[] }>('vpc', 'DescribeSecurityGroups', { SecurityGroupIds: [id] })
        .then((r) => r.SecurityGroupSet[0]),
    [id],
    0,
  );
  const policies = usePolled(
    () => api.call<{ SecurityGroupPolicySet: PolicySet }>('vpc', 'DescribeSecurityGroupPolicies', { SecurityGroupId: id }).then((r) => r.SecurityGroupPolicySet),
    [id],
  );
  const [preview, setPreview] = useState<Preview>();
  const set = policies.value;
  const version = set?.Version ?? '';

  const runPreview = (c: Change) => {
    setPreview(c);
    api
      .call<PreviewResult>('vpc', 'PreviewSecurityGroupPolicyChange', { Action: c.action, Request: c.request })
      .then((result) => setPreview({ ...c, result }), (error: unknown) => setPreview({ ...c, error }));
  };
  const saved = () => {
    setPreview(undefined);
    policies.reload();
  };

  return (
    <div className="page">
      <BackLink to="security-groups" label="Security groups" />
      <h3 data-testid="sg-title">
        {id} {group.value && `· ${group.value.SecurityGroupName}`} <span className="muted">{group.value?.SecurityGroupDesc}</span>
      </h3>
      <ErrorBox error={group.error ?? policies.error} />
      <PolicyForm sg={id} version={version} onPreview={runPreview} onSaved={saved} />
      {preview && <PreviewPanel key={`${preview.action} ${JSON.stringify(preview.request)}`} preview={preview} onApplied={saved} />}
      {(['Ingress', 'Egress'] as const).map((dir) => (
        <div className="card" key={dir}>
          <h3>
            {t(dir)} <span className="muted">Version {version}</span>
          </h3>
          <PolicyTable
            dir={dir}
            policies={set?.[dir]}
            onPreviewDelete={(p) =>
              runPreview({ what: `delete ${dir} #${p.PolicyIndex}`, action: 'DeleteSecurityGroupPolicies', request: deleteRequest(id, version, dir, p.PolicyIndex) })
            }
            onPreviewMove={(p, to) =>
              runPreview({ what: `move ${dir} #${p.PolicyIndex} to #${to}`, action: 'ReplaceSecurityGroupPolicies', request: moveRequest(id, version, dir, p, to) })
            }
            onDelete={(p) => api.call('vpc', 'DeleteSecurityGroupPolicies', deleteRequest(id, version, dir, p.PolicyIndex))}
            onDeleted={saved}
          />
        </div>
      ))}
    </div>
  );
}

/** One direction's policies in order; PolicyIndex is the position (0 decides first). */
function PolicyTable(p: {
  dir: Direction;
  policies: Policy[] | undefined;
  onPreviewDelete: (p: Policy) => void;
  /** Previews moving a policy one place up or down (applied from the preview). */
  onPreviewMove: (p: Policy, to: number) => void;
  onDelete: (p: Policy) => Promise<unknown>;
  onDeleted: () => void;
}) {
  const t = useT();
  return (
    <table data-testid={`sg-${p.dir.toLowerCase()}`}>
      <thead>
        <tr>
          <th>#</th>
          <th>{t('Protocol')}</th>
          <th>{t('Port')}</th>
          <th>{t('Source / destination')}</th>
          <th>{t('Action')}</th>
          <th>{t('Description')}</th>
          <th>{t('Modified')}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {p.policies?.map((x) => (
          <tr key={x.PolicyIndex} data-row={x.PolicyIndex}>
            <td>{x.PolicyIndex}</td>
            <td>{x.Protocol}</td>
            <td>{x.Port}</td>
            <td>{x.CidrBlock || x.SecurityGroupId}</td>
            <td className={`policy-${x.Action}`}>{x.Action}</td>
            <td>{x.PolicyDescription}</td>
            <td className="muted">{x.ModifyTime}</td>
            <td className="row-actions">
              <button type="button" className="link" title={t('Move up')} disabled={x.PolicyIndex === 0} data-testid={`sg-up-${p.dir.toLowerCase()}-${x.PolicyIndex}`} onClick={() => p.onPreviewMove(x, x.PolicyIndex - 1)}>
                ↑
              </button>
              <button
                type="button"
                className="link"
                title={t('Move down')}
                disabled={x.PolicyIndex === p.policies!.length - 1}
                data-testid={`sg-down-${p.dir.toLowerCase()}-${x.PolicyIndex}`}
                onClick={() => p.onPreviewMove(x, x.PolicyIndex + 1)}
              >
                ↓
              </button>
              <button type="button" className="link" data-testid={`sg-preview-delete-${p.dir.toLowerCase()}-${x.PolicyIndex}`} onClick={() => p.onPreviewDelete(x)}>
                {t('Preview delete')}
              </button>
              <ActionButton label="Delete" testId={`sg-delete-${p.dir.toLowerCase()}-${x.PolicyIndex}`} run={() => p.onDelete(x)} onDone={p.onDeleted} />
            </td>
          </tr>
        ))}
        {p.policies && !p.policies.length && (
          <tr>
            <td colSpan={8} className="muted">
              {t('No policies')}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** Add a policy: preview (sg-preview) shows what it would change, save (sg-save) sends the same body. */
function PolicyForm(p: { sg: string; version: string; onPreview: (c: Change) => void; onSaved: () => void }) {
  const api = useApi();
  const t = useT();
  const form = useRef<HTMLFormElement>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const request = () => createRequest(p.sg, p.version, formValues(form.current!));
  return (
    <form
      ref={form}
      className="card form"
      data-testid="sg-policy-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        api
          .call('vpc', 'CreateSecurityGroupPolicies', request())
          .then(p.onSaved, setError)
          .finally(() => setBusy(false));
      }}
    >
      <h3>{t('Add policy')}</h3>
      <ChoiceField name="Direction" label="Direction" choices={['ingress', 'egress']} />
      <TextField name="PolicyIndex" label="Position (optional)" placeholder="0 = first" />
      <ChoiceField name="Protocol" label="Protocol" choices={['TCP', 'UDP', 'ICMP', 'ALL']} />
      <TextField name="Port" label="Port" placeholder="22, 80-90, ALL" />
      <TextField name="CidrBlock" label="Source / destination" placeholder="10.0.0.0/16 or sg-…" defaultValue="0.0.0.0/0" />
      <ChoiceField name="Action" label="Action" choices={['ACCEPT', 'DROP']} />
      <TextField name="PolicyDescription" label="Description" />
      <ErrorBox error={error} />
      <div className="buttons">
        <button
          type="button"
          data-testid="sg-preview"
          onClick={() => {
            const r = request();
            const v = formValues(form.current!);
            p.onPreview({ what: `add ${v.Direction} ${v.Protocol}/${v.Port || 'ALL'} ${v.CidrBlock} ${v.Action}`, action: 'CreateSecurityGroupPolicies', request: r });
          }}
        >
          {t('Preview')}
        </button>
        <button type="submit" data-testid="sg-save" disabled={busy || !p.version}>
          {busy ? t('Loading…') : t('Save')}
        </button>
      </div>
    </form>
  );
}

/** A verdict as one word, with the deciding policy when a security group decided. */
function VerdictText({ v }: { v: Verdict }) {
  return (
    <span className={`verdict verdict-${v.Verdict}`} title={v.Reason}>
      {v.Verdict}
      {v.SecurityGroupId !== undefined && <span className="muted"> ({v.SecurityGroupId} #{v.PolicyIndex})</span>}
    </span>
  );
}

/** The flows a previewed change would open or close, one element per flow; "apply" sends exactly the previewed body. */
function PreviewPanel({ preview, onApplied }: { preview: Preview; onApplied: () => void }) {
  const t = useT();
  const api = useApi();
  const r = preview.result;
  return (
    <div className="card preview" data-testid="sg-preview-result" data-state={r ? 'done' : preview.error ? 'error' : 'loading'}>
      <h3>
        {t('Preview of')} <code>{preview.what}</code>
      </h3>
      <ErrorBox error={preview.error} />
      {!r && !preview.error && <span className="muted">{t('Loading…')}</span>}
      {r && (
        <>
          <div className="muted">
            {r.FlowsChecked} {t('flows checked')} · {t('Bound instances')}: {r.BoundInstanceIds.join(', ') || '—'}
            {r.Note && <div>{r.Note}</div>}
          </div>
          {!r.ChangedFlowSet.length && <p data-testid="sg-preview-none">{t('No flow changes its verdict.')}</p>}
          {r.ChangedFlowSet.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th>{t('Changed flows')}</th>
                  <th>{t('Protocol')}</th>
                  <th>{t('Before')}</th>
                  <th />
                  <th>{t('After')}</th>
                </tr>
              </thead>
              <tbody>
                {r.ChangedFlowSet.map((f) => {
                  const key = `${f.SourceInstanceId}>${f.DestinationInstanceId}:${f.Protocol}/${f.Port ?? ''}`;
                  return (
                    <tr key={key} data-flow={key} data-before={f.Before.Verdict} data-after={f.After.Verdict}>
                      <td>
                        {f.SourceInstanceId} <span className="muted">{f.SourceIpAddress}</span> → {f.DestinationInstanceId}{' '}
                        <span className="muted">{f.DestinationIpAddress}</span>
                      </td>
                      <td>
                        {f.Protocol}
                        {f.Port !== undefined ? `/${f.Port}` : ''}
                      </td>
                      <td>
                        <VerdictText v={f.Before} />
                      </td>
                      <td>→</td>
                      <td>
                        <VerdictText v={f.After} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <ActionButton label="Apply this change" testId="sg-apply" run={() => api.call('vpc', preview.action, preview.request)} onDone={onApplied} />
        </>
      )}
    </div>
  );
}
