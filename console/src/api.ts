/**
 * The console's only way to the region: the public API, TC3-HMAC-SHA256
 * signed in the browser with WebCrypto, exactly as the official SDKs sign
 * (src/api/tc3-signature.ts verifies it). No private back door: what the
 * console can do, the SDK can do, and account isolation is the API's.
 * The key lives in sessionStorage; sign-out removes it.
 */
export type Service = 'vpc' | 'cvm' | 'clb' | 'monitor';
const VERSIONS: Record<Service, string> = { vpc: '2017-03-12', cvm: '2017-03-12', clb: '2018-03-17', monitor: '2018-07-24' };

export interface Credentials {
  secretId: string;
  secretKey: string;
  region: string;
}

/** An error the API answered: Tencent's code and message, and the request it belongs to. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string,
    readonly action: string,
  ) {
    super(message);
  }
}

const KEY = 'weft.credentials';
export function savedCredentials(): Credentials | undefined {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as Credentials) : undefined;
}
export const saveCredentials = (c: Credentials) => sessionStorage.setItem(KEY, JSON.stringify(c));
export const clearCredentials = () => sessionStorage.removeItem(KEY);

const enc = new TextEncoder();
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const sha256 = async (s: string) => hex(await crypto.subtle.digest('SHA-256', enc.encode(s)));
async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, enc.encode(data));
}

/** The Authorization header for a POST / of `body` at `timestamp` (seconds). Signs the Host header as the browser sends it. */
export async function authorization(c: Pick<Credentials, 'secretId' | 'secretKey'>, host: string, body: string, timestamp: number, service: string): Promise<string> {
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const signedHeaders = 'content-type;host';
  const canonical = ['POST', '/', '', `content-type:application/json\nhost:${host.toLowerCase()}\n`, signedHeaders, await sha256(body)].join('\n');
  const scope = `${date}/${service}/tc3_request`;
  const toSign = ['TC3-HMAC-SHA256', String(timestamp), scope, await sha256(canonical)].join('\n');
  const key = await hmac(await hmac(await hmac(enc.encode(`TC3${c.secretKey}`), date), service), 'tc3_request');
  return `TC3-HMAC-SHA256 Credential=${c.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${hex(await hmac(key, toSign))}`;
}

/** Calls an action; resolves to its Response (without RequestId), rejects with ApiError. */
export async function call<T = Record<string, unknown>>(c: Credentials, service: Service, action: string, params: object = {}): Promise<T> {
  const body = JSON.stringify(params);
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch('/', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: await authorization(c, location.host, body, timestamp, service),
      'x-tc-action': action,
      'x-tc-version': VERSIONS[service],
      'x-tc-timestamp': String(timestamp),
      'x-tc-region': c.region,
    },
    body,
  });
  const json = (await res.json()) as { Response: Record<string, unknown> & { RequestId: string; Error?: { Code: string; Message: string } } };
  const r = json.Response;
  if (r.Error) throw new ApiError(r.Error.Code, r.Error.Message, r.RequestId, action);
  return r as T;
}

/** The API bound to the signed-in user. */
export interface Api {
  credentials: Credentials;
  call<T = Record<string, unknown>>(service: Service, action: string, params?: object): Promise<T>;
}
export const bindApi = (credentials: Credentials): Api => ({ credentials, call: (s, a, p) => call(credentials, s, a, p) });
