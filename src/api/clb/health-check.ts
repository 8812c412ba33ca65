/**
 * A listener's HealthCheck, normalised with Tencent's ranges and defaults
 * (clb_models.d.ts HealthCheck): on by default; TCP connect for TCP
 * listeners (or an HTTP request, CheckType HTTP), PING for UDP listeners;
 * IntervalTime 5 s (2–300), TimeOut 2 s (2–60, below IntervalTime), HealthNum
 * and UnHealthNum 3 (2–10); HTTP checks: HttpVersion and HttpCheckDomain
 * required, HttpCheckPath `/`, HttpCheckMethod HEAD, HttpCode 31 (1–31).
 * Weft's LB nodes cannot send CUSTOM probes, probe from the VIP
 * (SourceIpType 0) or speak HTTPS/GRPC: refused, each naming the field.
 */
import type { StoredHealthCheck } from '../../store/load-balancers.js';
import { fail } from '../errors.js';
import { int, obj, opt, str } from '../params.js';

export const healthCheckParam = opt(
  obj({
    HealthSwitch: opt(int()),
    TimeOut: opt(int()),
    IntervalTime: opt(int()),
    HealthNum: opt(int()),
    UnHealthNum: opt(int()),
    HttpCode: opt(int()),
    HttpCheckPath: opt(str()),
    HttpCheckDomain: opt(str()),
    HttpCheckMethod: opt(str()),
    CheckPort: opt(int()),
    ContextType: opt(str()),
    SendContext: opt(str()),
    RecvContext: opt(str()),
    CheckType: opt(str()),
    HttpVersion: opt(str()),
    SourceIpType: opt(int()),
    ExtendedCode: opt(str()),
  }),
);
export type HealthCheckInput = NonNullable<ReturnType<typeof healthCheckParam.parse>>;

const bad = (field: string, why: string): never => fail('InvalidParameterValue', `\`HealthCheck.${field}\` ${why}.`);

function inRange(field: string, v: number, min: number, max: number) {
  if (v < min || v > max) fail('InvalidParameterValue.Range', `\`HealthCheck.${field}\` is ${v}; give ${min} to ${max}.`);
  return v;
}

/**
 * The normalised check of a `protocol` listener, in Tencent's form (what is
 * stored and answered): `given` over `base` (the stored form, ModifyListener)
 * or over the defaults.
 */
export function normaliseHealthCheck(protocol: 'TCP' | 'UDP', given: HealthCheckInput | undefined, base?: StoredHealthCheck): StoredHealthCheck {
  const merged: HealthCheckInput = { ...(base as HealthCheckInput | undefined) };
  for (const [k, v] of Object.entries(given ?? {})) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  // A stored form holds nulls for what does not apply; they mean "not given".
  for (const [k, v] of Object.entries(merged)) if (v === null) delete (merged as Record<string, unknown>)[k];
  const sw = merged.HealthSwitch ?? 1;
  if (sw !== 0 && sw !== 1) bad('HealthSwitch', `is ${sw}; give 1 (on) or 0 (off)`);
  const interval = inRange('IntervalTime', merged.IntervalTime ?? 5, 2, 300);
  const timeout = inRange('TimeOut', merged.TimeOut ?? 2, 2, 60);
  if (timeout >= interval) bad('TimeOut', `(${timeout} s) must be shorter than \`HealthCheck.IntervalTime\` (${interval} s)`);
  const rise = inRange('HealthNum', merged.HealthNum ?? 3, 2, 10);
  const fall = inRange('UnHealthNum', merged.UnHealthNum ?? 3, 2, 10);
  const checkType = merged.CheckType ?? (protocol === 'TCP' ? 'TCP' : 'PING');
  if (checkType === 'CUSTOM') bad('CheckType', "is CUSTOM: Weft's LB nodes do not send custom probes; use TCP or HTTP (TCP listeners) or PING (UDP listeners)");
  const allowed = protocol === 'TCP' ? ['TCP', 'HTTP'] : ['PING'];
  if (!allowed.includes(checkType)) bad('CheckType', `is ${checkType}; a ${protocol} listener's checks are ${allowed.join(' or ')}`);
  for (const f of ['ContextType', 'SendContext', 'RecvContext'] as const)
    if (merged[f] !== undefined) bad(f, "belongs to CUSTOM checks, which Weft's LB nodes do not send; omit it");
  const source = merged.SourceIpType ?? 1;
  if (source !== 1) bad('SourceIpType', `is ${source}; Weft's LB nodes probe from 100.64.0.0/10 addresses (SourceIpType 1), never from the VIP`);
  let port: number | undefined;
  if (merged.CheckPort !== undefined && merged.CheckPort !== -1) port = inRange('CheckPort', merged.CheckPort, 1, 65535);
  const http = checkType === 'HTTP' ? httpFields(merged) : undefined;
  return {
    HealthSwitch: sw,
    TimeOut: timeout,
    IntervalTime: interval,
    HealthNum: rise,
    UnHealthNum: fall,
    HttpCode: http?.HttpCode ?? null,
    HttpCheckPath: http?.HttpCheckPath ?? null,
    HttpCheckDomain: http?.HttpCheckDomain ?? null,
    HttpCheckMethod: http?.HttpCheckMethod ?? null,
    CheckPort: port ?? -1,
    ContextType: null,
    SendContext: null,
    RecvContext: null,
    CheckType: checkType,
    HttpVersion: http?.HttpVersion ?? null,
    SourceIpType: 1,
    ExtendedCode: null,
  };
}

function httpFields(h: HealthCheckInput) {
  if (h.HttpVersion === undefined) fail('MissingParameter', 'An HTTP health check needs `HealthCheck.HttpVersion` (HTTP/1.0 or HTTP/1.1).');
  if (h.HttpVersion !== 'HTTP/1.0' && h.HttpVersion !== 'HTTP/1.1') bad('HttpVersion', `is ${h.HttpVersion}; give HTTP/1.0 or HTTP/1.1`);
  if (h.HttpCheckDomain === undefined) fail('MissingParameter', "An HTTP health check of a TCP listener needs `HealthCheck.HttpCheckDomain` (the Host header's value).");
  if (!/^[A-Za-z0-9*.-]{1,80}$/.test(h.HttpCheckDomain!)) bad('HttpCheckDomain', `\`${h.HttpCheckDomain}\` is not a domain name of 1 to 80 letters, digits, \`.\`, \`-\` and \`*\``);
  const path = h.HttpCheckPath ?? '/';
  if (!/^\/[\x21-\x7e]{0,199}$/.test(path)) bad('HttpCheckPath', `\`${path}\` must start with \`/\` and hold at most 200 visible ASCII characters`);
  const method = (h.HttpCheckMethod ?? 'HEAD').toUpperCase();
  if (method !== 'HEAD' && method !== 'GET') bad('HttpCheckMethod', `is ${h.HttpCheckMethod}; give HEAD or GET`);
  const code = inRange('HttpCode', h.HttpCode ?? 31, 1, 31);
  return { HttpVersion: h.HttpVersion!, HttpCheckDomain: h.HttpCheckDomain!, HttpCheckPath: path, HttpCheckMethod: method, HttpCode: code };
}
