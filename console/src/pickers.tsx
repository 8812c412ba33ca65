/**
 * Pieces the core network pages share: a form whose inputs are any children
 * (for selects that depend on each other, which ActionForm's fixed fields
 * cannot express), and selects of the user's resources (VPCs, subnets,
 * security groups, zones) loaded from the API.
 *
 * A select never loads every resource: it asks for one page of 100 (the
 * API's largest Limit) and, when there are more, shows a search box that
 * asks the server again with the resource's name filter.
 */
import { useEffect, useState } from 'react';
import type { Api } from './api';
import { useT } from './i18n';
import { ErrorBox, nameFilter, useApi, usePolled } from './ui';

/** A labelled input of a form. */
export function TextField(p: { name: string; label: string; placeholder?: string; defaultValue?: string; required?: boolean }) {
  const t = useT();
  return (
    <label>
      <span>{t(p.label)}</span>
      <input name={p.name} placeholder={p.placeholder} defaultValue={p.defaultValue} required={p.required} />
    </label>
  );
}

/** A labelled select of fixed choices. */
export function ChoiceField(p: { name: string; label: string; choices: readonly string[]; defaultValue?: string; onChange?: (v: string) => void }) {
  const t = useT();
  return (
    <label>
      <span>{t(p.label)}</span>
      <select name={p.name} defaultValue={p.defaultValue} onChange={(e) => p.onChange?.(e.target.value)}>
        {p.choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}

export interface Option {
  value: string;
  label: string;
  /** Whatever else the page needs of the chosen resource (a subnet's zone). */
  extra?: Record<string, string>;
}
interface Options {
  options: Option[];
  total: number;
}

/**
 * A select whose options come from the API: `load(search)` answers one page
 * (at most 100) and the total. Controlled when `value` is given, so a page
 * can make another select depend on it; the first option is chosen when the
 * value is empty or no longer listed.
 */
export function RemoteSelect(p: {
  name: string;
  label: string;
  load: (search: string) => Promise<Options>;
  deps?: unknown[];
  value?: string;
  onChange?: (o: Option | undefined) => void;
  /** An empty choice first (an optional field). */
  none?: string;
  testId?: string;
}) {
  const t = useT();
  const [search, setSearch] = useState('');
  const { value, error } = usePolled(() => p.load(search), [search, ...(p.deps ?? [])], 0);
  const options = value?.options ?? [];
  const selected = options.find((o) => o.value === p.value);
  const effective = p.none !== undefined ? selected : (selected ?? options[0]);
  // Once options arrive (or change), tell a controlling page what is effectively chosen.
  const { onChange } = p;
  const drift = !!value && (effective?.value ?? '') !== (p.value ?? '') && p.value !== undefined;
  useEffect(() => {
    if (drift) onChange?.(effective);
  }, [drift, effective, onChange]);
  return (
    <label>
      <span>{t(p.label)}</span>
      <select
        name={p.name}
        data-testid={p.testId}
        value={p.value !== undefined ? (effective?.value ?? '') : undefined}
        onChange={(e) => p.onChange?.(options.find((o) => o.value === e.target.value))}
      >
        {p.none !== undefined && <option value="">{t(p.none)}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {value && value.total > options.length && (
        <input className="narrow" placeholder={t('Name contains…')} aria-label={`${p.name} search`} value={search} onChange={(e) => setSearch(e.target.value)} />
      )}
      <ErrorBox error={error} />
    </label>
  );
}

/** The largest page the API gives: enough for a select; more are reached by its search box. */
const PICK = 100;
const label = (id: string, name: string, more = '') => `${id}${name ? ` · ${name}` : ''}${more ? ` · ${more}` : ''}`;

export async function vpcOptions(api: Api, search: string): Promise<Options> {
  const r = await api.call<{ VpcSet: { VpcId: string; VpcName: string; CidrBlock: string }[]; TotalCount: number }>('vpc', 'DescribeVpcs', {
    Limit: String(PICK),
    Filters: nameFilter('vpc-name', search),
  });
  return { total: r.TotalCount, options: r.VpcSet.map((v) => ({ value: v.VpcId, label: label(v.VpcId, v.VpcName, v.CidrBlock) })) };
}

export async function subnetOptions(api: Api, vpcId: string, search: string): Promise<Options> {
  if (!vpcId) return { total: 0, options: [] };
  const filters = [{ Name: 'vpc-id', Values: [vpcId] }, ...(nameFilter('subnet-name', search) ?? [])];
  const r = await api.call<{ SubnetSet: { SubnetId: string; SubnetName: string; CidrBlock: string; Zone: string }[]; TotalCount: number }>('vpc', 'DescribeSubnets', {
    Limit: String(PICK),
    Filters: filters,
  });
  return {
    total: r.TotalCount,
    options: r.SubnetSet.map((s) => ({ value: s.SubnetId, label: label(s.SubnetId, s.SubnetName, `${s.CidrBlock} · ${s.Zone}`), extra: { Zone: s.Zone } })),
  };
}

export async function securityGroupOptions(api: Api, search: string): Promise<Options> {
  const r = await api.call<{ SecurityGroupSet: { SecurityGroupId: string; SecurityGroupName: string }[]; TotalCount: number }>('vpc', 'DescribeSecurityGroups', {
    Limit: String(PICK),
    Filters: nameFilter('security-group-name', search),
  });
  return { total: r.TotalCount, options: r.SecurityGroupSet.map((g) => ({ value: g.SecurityGroupId, label: label(g.SecurityGroupId, g.SecurityGroupName) })) };
}

export async function zoneOptions(api: Api): Promise<Options> {
  const r = await api.call<{ ZoneSet: { Zone: string; ZoneName: string }[]; TotalCount: number }>('cvm', 'DescribeZones', {});
  return { total: r.TotalCount, options: r.ZoneSet.map((z) => ({ value: z.Zone, label: z.Zone })) };
}

/** The user's VPCs as a select (VpcId). */
export function VpcSelect(p: { value?: string; onChange?: (id: string) => void; name?: string; label?: string; none?: string }) {
  const api = useApi();
  return (
    <RemoteSelect
      name={p.name ?? 'VpcId'}
      label={p.label ?? 'VPC'}
      load={(s) => vpcOptions(api, s)}
      value={p.value}
      none={p.none}
      onChange={p.onChange ? (o) => p.onChange!(o?.value ?? '') : undefined}
    />
  );
}

/** The subnets of one VPC as a select (SubnetId); `onChange` also gets the subnet's zone. */
export function SubnetSelect(p: { vpcId: string; value?: string; onChange?: (id: string, zone: string) => void; name?: string }) {
  const api = useApi();
  return (
    <RemoteSelect
      name={p.name ?? 'SubnetId'}
      label="Subnet"
      deps={[p.vpcId]}
      load={(s) => subnetOptions(api, p.vpcId, s)}
      value={p.value}
      onChange={p.onChange ? (o) => p.onChange!(o?.value ?? '', o?.extra?.Zone ?? '') : undefined}
    />
  );
}

/** The region's zones (cvm DescribeZones) as a select (Zone). */
export function ZoneSelect(p: { name?: string }) {
  const api = useApi();
  return <RemoteSelect name={p.name ?? 'Zone'} label="Zone" load={() => zoneOptions(api)} />;
}

/** A state shown with its class (state-RUNNING …), the hook the browser tests and the colours use. */
export const StateText = ({ state }: { state: string }) => <span className={`state-${state}`}>{state}</span>;

/** A "← back" link to a list page. */
export const BackLink = ({ to, label }: { to: string; label: string }) => {
  const t = useT();
  return (
    <a className="back" href={`#/${to}`}>
      ← {t(label)}
    </a>
  );
};

/**
 * The search box as a Tencent filter: an ID typed whole (subnet-1a2b3c4d)
 * filters by ID, anything else by name. Empty: no filter.
 */
export function searchFilters(search: string, prefix: string, idFilter: string, nameFilterName: string): { Name: string; Values: string[] }[] {
  if (!search) return [];
  const isId = new RegExp(`^${prefix}-[0-9a-z]{8}$`).test(search);
  return [{ Name: isId ? idFilter : nameFilterName, Values: [search] }];
}

/** A filter list, or undefined when it is empty (Filters: [] and no Filters mean the same, but omitting it is tidier). */
export const filtersOrNone = (fs: { Name: string; Values: string[] }[]) => (fs.length ? fs : undefined);
