/**
 * A line chart in plain SVG (no chart library: the console bundles what it
 * uses, and a few paths and ticks are all a metric needs). Series share the
 * time axis (Unix seconds) and one value axis starting at zero; a gap in a
 * series (null) breaks its line.
 */
import { useState } from 'react';
import { addZh, useT } from './i18n';

addZh({ 'No data points in this range.': '此时间范围内没有数据点。' });

export interface Series {
  name: string;
  /** Unix seconds. */
  times: number[];
  values: (number | null)[];
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const W = 720;
const H = 260;
const PAD = { left: 56, right: 16, top: 24, bottom: 28 };

/** 1, 2 or 5 times a power of ten: a step that gives about `n` ticks up to `max`. */
function niceStep(max: number, n: number): number {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

const clock = (s: number) => new Date(s * 1000).toTimeString().slice(0, 5);
const short = (v: number) => (Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toFixed(v < 1 ? 3 : 1)}`);

/** `maxGap`: seconds between two figures beyond which the line breaks (the API leaves out empty periods). */
export function LineChart({ series, unit, maxGap, testId = 'chart' }: { series: Series[]; unit: string; maxGap?: number; testId?: string }) {
  const t = useT();
  const [hover, setHover] = useState<number>();
  const times = series.flatMap((s) => s.times);
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  if (!times.length)
    return (
      <div className="chart-empty" data-testid={testId} data-points={0}>
        {t('No data points in this range.')}
      </div>
    );
  const t0 = Math.min(...times);
  const t1 = Math.max(t0 + 1, Math.max(...times));
  const vmax = Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const step = niceStep(vmax || 1, 4);
  const top = Math.ceil((vmax || 1) / step) * step;
  const x = (at: number) => PAD.left + ((at - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const yTicks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const tStep = niceTimeStep(t1 - t0);
  const xTicks: number[] = [];
  for (let at = Math.ceil(t0 / tStep) * tStep; at <= t1; at += tStep) xTicks.push(at);
  /** One path per series, moving (M) after every gap so a missing figure is not drawn as a slope. */
  const path = (s: Series) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) return void (pen = false);
      if (maxGap !== undefined && i > 0 && s.times[i]! - s.times[i - 1]! > maxGap) pen = false;
      d += `${pen ? 'L' : 'M'}${x(s.times[i]!).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  const near = hover === undefined ? undefined : nearestIndex(series[0]?.times ?? [], hover);
  return (
    <figure className="chart" data-testid={testId} data-points={points}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${series.map((s) => s.name).join(', ')} (${unit})`}
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const px = ((e.clientX - r.left) / r.width) * W;
          setHover(t0 + ((px - PAD.left) / (W - PAD.left - PAD.right)) * (t1 - t0));
        }}
        onMouseLeave={() => setHover(undefined)}
      >
        {yTicks.map((v) => (
          <g key={v} className="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
              {short(v)}
            </text>
          </g>
        ))}
        {xTicks.map((at) => (
          <text key={at} className="tick" x={x(at)} y={H - 8} textAnchor="middle">
            {clock(at)}
          </text>
        ))}
        <text className="unit" x={PAD.left} y={12}>
          {unit}
        </text>
        {series.map((s, i) => (
          <g key={s.name}>
            <path d={path(s)} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={1.5} />
            {/* Few figures: each is marked too, so a lone one (no line to draw) still shows. */}
            {s.values.length <= 90 &&
              s.values.map((v, j) => (v === null ? null : <circle key={j} cx={x(s.times[j]!)} cy={y(v)} r={1.8} fill={COLORS[i % COLORS.length]} />))}
          </g>
        ))}
        {near !== undefined && series[0] && (
          <g className="cursor">
            <line x1={x(series[0].times[near]!)} x2={x(series[0].times[near]!)} y1={PAD.top} y2={H - PAD.bottom} />
            {series.map((s, i) =>
              s.values[near] === null || s.values[near] === undefined ? null : (
                <circle key={s.name} cx={x(s.times[near]!)} cy={y(s.values[near]!)} r={3} fill={COLORS[i % COLORS.length]} />
              ),
            )}
          </g>
        )}
      </svg>
      <figcaption>
        {series.map((s, i) => (
          <span key={s.name} className="legend">
            <i style={{ background: COLORS[i % COLORS.length] }} />
            {s.name}
            {near !== undefined && s.values[near] != null ? ` ${short(s.values[near]!)} ${unit} at ${clock(s.times[near]!)}` : ''}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** A round step between time labels for a span of `s` seconds: about six labels. */
function niceTimeStep(s: number): number {
  return [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600].find((x) => s / x <= 7) ?? 21600;
}

function nearestIndex(times: number[], t: number): number | undefined {
  if (!times.length) return undefined;
  let best = 0;
  times.forEach((x, i) => {
    if (Math.abs(x - t) < Math.abs(times[best]! - t)) best = i;
  });
  return best;
}
