/**
 * TC3-HMAC-SHA256 verification, exactly as the official SDKs sign
 * (tencentcloud-sdk-nodejs-common sign.js):
 *
 *   CanonicalRequest = Method \n Path \n Query \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
 *   StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/Service/tc3_request \n hex(sha256(CanonicalRequest))
 *   key              = HMAC(HMAC(HMAC("TC3"+SecretKey, Date), Service), "tc3_request")
 *
 * The service is taken from the credential scope as sent: an SDK pointed at
 * 127.0.0.1:9080 signs with service "127". The Node.js SDK signs the host name
 * without the port although its Host header carries one; the Go SDK (and most
 * hand-written signers) sign the Host header as sent, port included. Both are
 * accepted: the port-less form is tried first, the other only on a mismatch.
 * Pure: no clock, no key lookup.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface Tc3Authorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_RE =
  /^TC3-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export function parseAuthorization(header: string): Tc3Authorization | undefined {
  const m = AUTH_RE.exec(header.trim());
  if (!m) return undefined;
  return { secretId: m[1]!, date: m[2]!, service: m[3]!, signedHeaders: m[4]!.split(';'), signature: m[5]! };
}

export const utcDate = (timestamp: number) => new Date(timestamp * 1000).toISOString().slice(0, 10);

const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** The host name of a Host header value, without its port (`[::1]:80` → `[::1]`). */
const withoutPort = (host: string) => (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, ''));

/** The header value as it enters the canonical request (Tencent: trimmed, lower case). */
function canonicalHeaderValue(name: string, value: string, hostPort: boolean): string {
  const v = value.trim().toLowerCase();
  // The Node.js SDK signs URL.hostname (no port) while sending URL.host.
  return name === 'host' && !hostPort ? withoutPort(v) : v;
}

export interface SignedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  timestamp: number;
}

/**
 * The hex signature of a request. `hostPort`: sign the Host header with its
 * port, as the Go SDK does (default: without, as the Node.js SDK does).
 */
export function signature(req: SignedRequest, auth: Omit<Tc3Authorization, 'signature'>, secretKey: string, hostPort = false): string {
  const headerLines = auth.signedHeaders
    .map((h) => {
      const raw = req.headers[h];
      return `${h}:${canonicalHeaderValue(h, Array.isArray(raw) ? raw.join(',') : (raw ?? ''), hostPort)}\n`;
    })
    .join('');
  const canonical = [req.method, req.path || '/', req.query, headerLines, auth.signedHeaders.join(';'), sha256hex(req.body)].join('\n');
  const scope = `${auth.date}/${auth.service}/tc3_request`;
  const toSign = ['TC3-HMAC-SHA256', String(req.timestamp), scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(`TC3${secretKey}`, auth.date), auth.service), 'tc3_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

export function signatureMatches(req: SignedRequest, auth: Tc3Authorization, secretKey: string): boolean {
  const got = Buffer.from(auth.signature, 'hex');
  const same = (hex: string) => {
    const want = Buffer.from(hex, 'hex');
    return want.length === got.length && timingSafeEqual(want, got);
  };
  if (same(signature(req, auth, secretKey))) return true;
  const host = req.headers.host;
  const hasPort = auth.signedHeaders.includes('host') && typeof host === 'string' && withoutPort(host.trim()) !== host.trim();
  return hasPort && same(signature(req, auth, secretKey, true));
}

/** Builds the Authorization header a client sends (used by the weft CLI and tests). */
export function authorize(
  req: SignedRequest,
  secretId: string,
  secretKey: string,
  service: string,
  signedHeaders = ['content-type', 'host'],
  hostPort = false,
): string {
  const auth = { secretId, date: utcDate(req.timestamp), service, signedHeaders };
  return `TC3-HMAC-SHA256 Credential=${secretId}/${auth.date}/${service}/tc3_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature(req, auth, secretKey, hostPort)}`;
}
