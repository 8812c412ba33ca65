/**
 * The region at a glance (`weft status`, the DescribeRegionStatus action):
 * the controller (and every replica of it the store knows), the store, and every host — its agent's connection, the
 * revision of the document compiled for it against the one its agent
 * applied (checked: agent-reports.ts), its last audit and the drift audits
 * found and repaired. Read from the store and, inside a controller, from its
 * distribution (connections, the documents it serves); without one (the
 * controller is down) documents are compiled from the store and no agent is
 * connected.
 *
 * Each host also carries `underlay`: the latest loss and round trip of the
 * underlay probes from it to each tunnel peer (NetDetect's full-link
 * monitoring, store/net-detects.ts `underlayLinks`). More per-host sections
 * from other parts come through `extra`, merged in as they are given.
 */
import type { AuditSummary, DriftRecord } from '../contract/agent-report.js';
import type { DocumentSource } from '../contract/document-source.js';
import type { Store } from '../store/store.js';
import { compileDocuments } from '../api/vpc/region-view.js';
import { recentDrift } from './agent-reports.js';
import { underlayLinks, type UnderlayLink } from '../store/net-detects.js';
import { listReplicas, type Replica } from './replicas.js';

export interface HostStatus {
  /** The host's name, as `weft node list` shows it. */
  name: string;
  role: string;
  zone: string;
  underlayAddress: string;
  /** Its agent holds a long poll open (or did within 5 s). */
  connected: boolean;
  /** The revision of the document compiled for the host (null: it has none). */
  revision: number | null;
  /** The revision its agent applied, as the controller checked it (0: none yet). */
  appliedRevision: number;
  /** The agent applied the document compiled for it. */
  inSync: boolean;
  reportedAt: string | null;
  /** The last apply failed: why. */
  applyError: string | null;
  /** When the last full audit ended (null: none reported yet). */
  lastAudit: string | null;
  audit: AuditSummary | null;
  driftFound: number;
  driftRepairs: number;
  /** The newest drift records, newest first. */
  recentDrift: DriftRecord[];
  /** Underlay probes from this host to each peer it probes: loss rate 0–1, round trip (null: nothing came back), when measured. */
  underlay: { to: string; lossRate: number; rttMs: number | null; at: string }[];
  [more: string]: unknown;
}

export interface RegionStatus {
  controller: { up: boolean; pid: number | null; address: string | null; [more: string]: unknown };
  /** Every controller replica the store knows (replicas.ts): alive while its lease holds. */
  replicas: Replica[];
  store: { engine: string; revision: number };
  hosts: HostStatus[];
}

export interface RegionStatusOptions {
  controller: RegionStatus['controller'];
  /** The controller's documents (its distribution cache); compiled from the store without it. */
  documents?: DocumentSource;
  /** Whether a host's agent is connected; none is without it. */
  connected?: (hostId: string) => boolean;
  /** More per-host sections (e.g. `underlay`), by host ID. */
  extra?: (hostIds: readonly string[]) => Promise<Map<string, Record<string, unknown>>>;
  /** How many drift records per host (default 5). */
  recent?: number;
}

/** What the API's DescribeRegionStatus calls inside a controller: its status with its connections and documents. */
export type RegionStatusSource = (o: { recent?: number }) => Promise<RegionStatus>;

export async function regionStatus(store: Store, o: RegionStatusOptions): Promise<RegionStatus> {
  const rows = await store.db
    .selectFrom('hosts')
    .select(['id', 'role', 'zone', 'underlay', 'applied_revision', 'reported_at', 'report', 'last_audit', 'drift_found', 'drift_repairs'])
    .orderBy('id')
    .execute();
  // As `weft node list` orders them: hosts, gateways, LB nodes; h2 before h10.
  const rank = (role: string) => ({ host: 0, gateway: 1, lb: 2 })[role] ?? 3;
  rows.sort((a, b) => rank(a.role) - rank(b.role) || a.id.localeCompare(b.id, 'en', { numeric: true }));
  const ids = rows.map((r) => r.id);
  const [docs, revision, extra, links, replicas] = await Promise.all([
    o.documents ? o.documents(ids) : compileDocuments(store, ids),
    store.revision(),
    o.extra ? o.extra(ids) : Promise.resolve(new Map<string, Record<string, unknown>>()),
    underlayLinks(store),
    listReplicas(store),
  ]);
  const underlayFrom = new Map<string, UnderlayLink[]>();
  for (const l of links) underlayFrom.set(l.from, [...(underlayFrom.get(l.from) ?? []), l]);
  const hosts = await Promise.all(
    rows.map(async (r, i): Promise<HostStatus> => {
      const docRevision = docs[i]?.revision ?? null;
      const applied = Number(r.applied_revision);
      const report = r.report ? (JSON.parse(r.report) as { ok?: boolean; error?: string }) : undefined;
      const audit = r.last_audit ? (JSON.parse(r.last_audit) as AuditSummary) : null;
      return {
        name: r.id,
        role: r.role,
        zone: r.zone,
        underlayAddress: r.underlay,
        connected: o.connected?.(r.id) ?? false,
        revision: docRevision,
        appliedRevision: applied,
        inSync: docRevision !== null && applied >= docRevision,
        reportedAt: r.reported_at,
        applyError: report && report.ok === false ? (report.error ?? 'failed') : null,
        lastAudit: audit?.at ?? null,
        audit,
        driftFound: Number(r.drift_found),
        driftRepairs: Number(r.drift_repairs),
        recentDrift: await recentDrift(store, r.id, o.recent ?? 5),
        underlay: (underlayFrom.get(r.id) ?? []).map(({ to, lossRate, rttMs, at }) => ({ to, lossRate, rttMs, at })),
        ...(extra.get(r.id) ?? {}),
      };
    }),
  );
  return { controller: o.controller, replicas, store: { engine: store.engine, revision }, hosts };
}

/** `weft status` as text: one line per host. */
export function renderStatus(s: RegionStatus): string {
  const c = s.controller;
  const lines = [
    `controller  ${c.up ? 'up' : 'down'}${c.pid ? `, pid ${c.pid}` : ''}${c.address ? `, ${c.address}` : ''}`,
    ...(s.replicas.length > 1 ? [`replicas    ${s.replicas.map((r) => `${r.id} ${r.alive ? 'alive' : 'gone'} ${r.endpoint}`).join(', ')}`] : []),
    `store       ${s.store.engine}, revision ${s.store.revision}`,
    '',
  ];
  const head = ['HOST', 'ROLE', 'AGENT', 'REVISION', 'APPLIED', 'LAST AUDIT', 'DRIFT', 'REPAIRED', 'UNDERLAY'];
  const rows = s.hosts.map((h) => [
    h.name,
    h.role,
    h.connected ? 'connected' : 'gone',
    h.revision === null ? '-' : String(h.revision),
    `${h.appliedRevision}${h.inSync ? '' : ' (behind)'}${h.applyError ? ' (failing)' : ''}`,
    h.lastAudit ? `${ago(h.lastAudit)}${h.audit && !h.audit.ok ? ' (failed)' : ''}` : 'never',
    String(h.driftFound),
    String(h.driftRepairs),
    underlayText(h.underlay),
  ]);
  const widths = head.map((_, i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const errors = s.hosts.filter((h) => h.applyError);
  for (const h of errors) lines.push('', `${h.name}: last apply failed: ${h.applyError}`);
  return lines.join('\n');
}

/** The worst peer: `3 peers, worst h2 0 % 0.4 ms`; `-` when the host probes none. */
function underlayText(links: HostStatus['underlay']): string {
  if (!links.length) return '-';
  const worst = [...links].sort((a, b) => b.lossRate - a.lossRate || (b.rttMs ?? Infinity) - (a.rttMs ?? Infinity))[0]!;
  return `${links.length} peer(s), worst ${worst.to} ${Math.round(worst.lossRate * 100)} % loss${worst.rttMs === null ? '' : ` ${worst.rttMs.toFixed(1)} ms`}`;
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : iso;
}
