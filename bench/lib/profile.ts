/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went:
 * by area (weft's own modules, kysely, pg, better-sqlite3, node's http, GC,
 * idle), by function (self time), and by weft function including callees.
 */
import { readFileSync } from 'node:fs';
import { fmt, table } from './stats.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  /** Share of busy (non-idle) time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  byArea: Share[];
  selfTop: Share[];
  weftInclusiveTop: Share[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string): string | undefined {
  if (!url) return undefined;
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return nm[1]!.startsWith('pg') ? 'pg (driver)' : nm[1]!;
  const src = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url) ?? /\/dist\/(src\/[^/]+)\.js$/.exec(url);
  if (src) return `weft ${src[1]}`;
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `weft ${dist[1]}`;
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url.startsWith('node:http')) return 'node http';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:net') || url.startsWith('node:internal/stream')) return 'node net/streams';
  if (url.startsWith('node:')) return 'node other';
  return shortUrl(url);
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Area of a node: its own script's, or (native code called from JS) the nearest caller's.
  const area = new Map<number, string>();
  const areaFor = (id: number): string => {
    const known = area.get(id);
    if (known) return known;
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName;
    let a: string;
    if (SPECIAL.has(fn)) a = fn;
    else a = areaOf(n.callFrame.url) ?? (parent.has(id) ? areaFor(parent.get(id)!) : '(native)');
    area.set(id, a);
    return a;
  };
  const keyOf = (n: ProfileNode) =>
    SPECIAL.has(n.callFrame.functionName)
      ? n.callFrame.functionName
      : `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '(native)'}`;

  const areaMs = new Map<string, number>();
  const selfMs = new Map<string, number>();
  const inclMs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const id = p.samples[i]!;
    const n = byId.get(id)!;
    total += ms;
    if (n.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const a = areaFor(id);
    areaMs.set(a, (areaMs.get(a) ?? 0) + ms);
    const k = keyOf(n);
    selfMs.set(k, (selfMs.get(k) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur)!;
      if (!c.callFrame.url.includes('/dist/src/')) continue;
      const ck = keyOf(c);
      if (seen.has(ck)) continue;
      seen.add(ck);
      inclMs.set(ck, (inclMs.get(ck) ?? 0) + ms);
    }
  }
  const busy = total - idle;
  const ranked = (m: Map<string, number>, n: number): Share[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: busy ? Math.round((ms / busy) * 1000) / 1000 : 0 }));
  return {
    file,
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    byArea: ranked(areaMs, 20),
    selfTop: ranked(selfMs, top),
    weftInclusiveTop: ranked(inclMs, top),
  };
}

export function formatProfile(s: ProfileSummary, title: string): string {
  const rows = (list: Share[]) => list.map((x) => [x.name, fmt(x.ms, ' ms'), fmt(x.share * 100, '%')]);
  return [
    `${title}: ${fmt(s.busyMs)} ms busy of ${fmt(s.totalMs)} ms profiled (${s.file})`,
    table(['area', 'self', 'of busy'], rows(s.byArea)),
    '',
    table(['function (self time, with native code it calls; line in dist JS)', 'self', 'of busy'], rows(s.selfTop)),
    '',
    table(['weft function (including callees)', 'total', 'of busy'], rows(s.weftInclusiveTop)),
  ].join('\n');
}
