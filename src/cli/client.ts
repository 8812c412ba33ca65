/**
 * A minimal Tencent Cloud API 3.0 client, signing exactly as the official SDK
 * does. The weft CLI uses it; tests use the official SDK itself.
 */
import { SERVICE_VERSIONS, type Service } from '../api/action.js';
import { authorize } from '../api/tc3-signature.js';

export interface ClientConfig {
  endpoint: string; // host:port or http://host:port
  secretId: string;
  secretKey: string;
  region: string;
  /** Give up on an endpoint that does not answer (default 60 s). */
  timeoutMs?: number;
}

export interface ApiResult {
  Response: Record<string, unknown> & { RequestId: string; Error?: { Code: string; Message: string } };
}

export async function call(c: ClientConfig, service: Service, action: string, params: unknown): Promise<ApiResult> {
  const base = /^https?:\/\//.test(c.endpoint) ? c.endpoint : `http://${c.endpoint}`;
  const url = new URL('/', base);
  const body = Buffer.from(JSON.stringify(params ?? {}));
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: url.host,
    'x-tc-action': action,
    'x-tc-version': SERVICE_VERSIONS[service],
    'x-tc-timestamp': String(timestamp),
    'x-tc-region': c.region,
  };
  // Like the SDK, sign with the endpoint's first label as service when it is not a Tencent host name.
  const signService = url.hostname.split('.')[0] ?? service;
  headers.authorization = authorize({ method: 'POST', path: '/', query: '', headers, body, timestamp }, c.secretId, c.secretKey, signService);
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(c.timeoutMs ?? 60_000) });
  const text = await res.text();
  try {
    return JSON.parse(text) as ApiResult;
  } catch {
    throw new Error(`${url} answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}
