/**
 * Hand-made API requests for testing the front: signed with Weft's own
 * `authorize()` (itself checked against the official SDK's sign.js in
 * test/api/tc3-signature.test.ts) and then, where a test wants it, spoiled in
 * one precise way. Also reads the store's revision straight from the database,
 * the strongest "nothing changed" a test can ask for.
 */
import { request } from 'node:http';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { authorize, signature } from '../../src/api/tc3-signature.js';
import type { TestRegion } from './region.js';

export interface Envelope {
  Response: Record<string, unknown> & { RequestId?: string; Error?: { Code: string; Message: string } };
}

export interface RawReply {
  status: number;
  text: string;
  json?: Envelope;
  code?: string;
  message?: string;
}

export interface RawRequest {
  secretId: string;
  secretKey: string;
  action?: string | null; // null: header left out
  version?: string | null;
  region?: string | null;
  timestamp?: number | null;
  contentType?: string | null;
  body?: string | Buffer;
  method?: string;
  /** Service in the credential scope (default: the host's first label, as the SDK does). */
  service?: string;
  signedHeaders?: string[];
  /** Credential scope date (default: the timestamp's UTC day). */
  date?: string;
  /** Sign the Host header with its port, as the Go SDK does. */
  hostPort?: boolean;
  /** Replaces the Authorization header (null: left out). */
  authorization?: string | null;
  /** Changes applied after signing: what a man in the middle would do. */
  tamper?: { headers?: Record<string, string>; body?: string | Buffer; authorization?: (a: string) => string };
}

export const now = () => Math.floor(Date.now() / 1000);

export async function raw(endpoint: string, o: RawRequest): Promise<RawReply> {
  const url = new URL(`http://${endpoint}/`);
  const body = typeof o.body === 'string' || Buffer.isBuffer(o.body) ? Buffer.from(o.body) : Buffer.from('{}');
  const timestamp = o.timestamp === undefined ? now() : o.timestamp;
  const headers: Record<string, string> = { host: url.host };
  const set = (name: string, v: string | null | undefined, dflt: string) => {
    if (v !== null) headers[name] = v ?? dflt;
  };
  set('content-type', o.contentType, 'application/json');
  set('x-tc-action', o.action, 'DescribeVpcs');
  set('x-tc-version', o.version, '2017-03-12');
  set('x-tc-region', o.region, 'local');
  if (timestamp !== null) headers['x-tc-timestamp'] = String(timestamp);
  const method = o.method ?? 'POST';
  const signed = { method, path: '/', query: '', headers, body, timestamp: timestamp ?? now() };
  const service = o.service ?? url.hostname.split('.')[0]!;
  const signedHeaders = o.signedHeaders ?? ['content-type', 'host'];
  let authorization =
    o.authorization !== undefined
      ? o.authorization
      : o.date
        ? `TC3-HMAC-SHA256 Credential=${o.secretId}/${o.date}/${service}/tc3_request, SignedHeaders=${signedHeaders.join(';')}, ` +
          `Signature=${signature(signed, { secretId: o.secretId, date: o.date, service, signedHeaders }, o.secretKey)}`
        : authorize(signed, o.secretId, o.secretKey, service, signedHeaders, o.hostPort);
  if (o.tamper?.authorization && authorization) authorization = o.tamper.authorization(authorization);
  if (authorization !== null) headers.authorization = authorization;
  Object.assign(headers, o.tamper?.headers ?? {});
  const sent = o.tamper?.body === undefined ? body : Buffer.from(o.tamper.body);
  return send(url, method, headers, method === 'GET' || method === 'HEAD' ? undefined : sent);
}

/** One HTTP exchange with node:http (fetch would refuse a GET body or fix up headers). */
export function send(url: URL, method: string, headers: Record<string, string>, body?: Buffer): Promise<RawReply> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: Envelope | undefined;
        try {
          json = JSON.parse(text) as Envelope;
        } catch {
          /* not JSON: the test will say so */
        }
        ok({ status: res.statusCode ?? 0, text, json, code: json?.Response?.Error?.Code, message: json?.Response?.Error?.Message });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** The region's revision, read from its database (SQLite file or PostgreSQL). */
export async function revision(r: TestRegion): Promise<number> {
  const rows = await query(r, 'select revision from meta where id = 1');
  return Number(rows[0]!.revision);
}

/** Rows of a read-only query against the region's database. */
export async function query(r: TestRegion, text: string): Promise<Record<string, unknown>[]> {
  if (r.database) {
    const c = new pg.Client({ connectionString: r.database });
    await c.connect();
    try {
      return (await c.query(text)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  }
  const db = new Database(join(r.dataDir, 'weft.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(text).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}
