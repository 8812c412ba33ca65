/**
 * The API front: one endpoint, POST / with a JSON body, TC3-HMAC-SHA256
 * signed, answering in Tencent Cloud API 3.0 envelopes. Order of checks:
 * transport (method, size, headers) → signature → rate limit → action and
 * version → region → parameters → idempotency → handler. Every failure is an
 * envelope with a Tencent error code; nothing escapes as a bare 500.
 */
import { isConsolePath, serveConsole } from './console-files.js';
import type { RegionStatusSource } from '../controller/region-status.js';
import { createTaskRunner, type TaskRunner } from '../controller/task-runner.js';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { KyselyPlugin } from 'kysely';
import { performance } from 'node:perf_hooks';
import { quotasOf, type Account } from '../accounts/accounts.js';
import { newRequestId } from '../core/ids.js';
import { logger, withRequestId } from '../core/log.js';
import type { Region } from '../core/region.js';
import { storeUnavailable, type Store, type Write } from '../store/store.js';
import { SERVICE_VERSIONS, type ActionDef, type Ctx, type DocumentSource, type Response } from './action.js';
import { ApiError, missingParameter } from './errors.js';
import { RateLimiter, type Limiter } from './rate-limit.js';
import { parseAuthorization, signatureMatches, utcDate } from './tc3-signature.js';
import { stableJson } from '../core/stable-json.js';

export interface ApiOptions {
  store: Store;
  region: Region;
  actions: readonly ActionDef[];
  /** Resolves a SecretId to its account and secret key. */
  lookupKey(secretId: string): Promise<{ account: Account; secretKey: string } | undefined>;
  /** Requests per second per account (0: unlimited). */
  rateLimit?: number;
  /** The buckets that limit applies to (default: this process's memory; the controller's on PostgreSQL: the region's, rate-limit.ts). */
  limiter?: Limiter;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Clock skew tolerated for X-TC-Timestamp, in seconds (Tencent: 5 minutes). */
  maxSkewSeconds?: number;
  /** The controller's host documents (its distribution cache), for the tracer actions; without it they compile from the store. */
  documents?: DocumentSource;
  /** Called once per request with its action (`unknown` when none was recognised), answer code (`OK` or the error code) and seconds taken (metrics). */
  observe?(action: string, code: string, seconds: number): void;
  /** The controller's view of the region, for DescribeRegionStatus (controller/region-status.ts). */
  regionStatus?: RegionStatusSource;
  /** The replica's task runner; without it (an API without a controller) tasks run here as replica `local`. */
  tasks?: TaskRunner;
}

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Set when the body exceeded the limit and was not read whole. */
  oversize?: boolean;
}

export interface ApiReply {
  status: number;
  body: string;
  action?: string;
  error?: string;
}

const header = (h: IncomingMessage['headers'], name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

export function createApi(o: ApiOptions) {
  const byName = new Map(o.actions.map((a) => [a.name, a]));
  const limiter = o.limiter ?? new RateLimiter(o.rateLimit ?? 1000);
  const tasks = o.tasks ?? createTaskRunner(o.store, 'local');
  const bodyLimit = o.bodyLimit ?? 10 << 20; // Tencent: 10 MB for TC3-signed POST
  const maxSkew = o.maxSkewSeconds ?? 300;

  async function authenticate(req: RawRequest) {
    const raw = header(req.headers, 'authorization');
    if (!raw) throw missingParameter('Authorization');
    if (raw === 'SKIP') throw new ApiError('AuthFailure.SignatureFailure', 'Unsigned requests are not accepted; sign with TC3-HMAC-SHA256.');
    const auth = parseAuthorization(raw);
    if (!auth)
      throw new ApiError(
        'AuthFailure.InvalidAuthorization',
        'The Authorization header is malformed; expected `TC3-HMAC-SHA256 Credential=SecretId/Date/Service/tc3_request, SignedHeaders=…, Signature=…`.',
      );
    const tsText = header(req.headers, 'x-tc-timestamp');
    if (!tsText) throw missingParameter('X-TC-Timestamp');
    const timestamp = Number(tsText);
    if (!/^\d+$/.test(tsText)) throw new ApiError('AuthFailure.SignatureFailure', `X-TC-Timestamp \`${tsText}\` is not a Unix time in seconds.`);
    const skew = Math.abs(Date.now() / 1000 - timestamp);
    if (skew > maxSkew)
      throw new ApiError(
        'AuthFailure.SignatureExpire',
        `Signature expired: \`X-TC-Timestamp\` is ${Math.round(skew)} s away from the server time ${Math.floor(Date.now() / 1000)}; the limit is ${maxSkew} s. Synchronise the client's clock (NTP).`,
      );
    if (auth.date !== utcDate(timestamp))
      throw new ApiError('AuthFailure.SignatureFailure', `The credential date ${auth.date} does not match X-TC-Timestamp (${utcDate(timestamp)}).`);
    if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('content-type'))
      throw new ApiError('AuthFailure.SignatureFailure', 'SignedHeaders must include content-type and host.');
    const key = await o.lookupKey(auth.secretId);
    if (!key) throw new ApiError('AuthFailure.SecretIdNotFound', `The SecretId \`${auth.secretId}\` is not found, please ensure that your SecretId is correct.`);
    const q = req.url.indexOf('?');
    const signed = {
      method: req.method,
      path: q < 0 ? req.url : req.url.slice(0, q),
      query: q < 0 ? '' : req.url.slice(q + 1),
      headers: req.headers,
      body: req.body,
      timestamp,
    };
    if (!signatureMatches(signed, auth, key.secretKey))
      throw new ApiError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
    return key.account;
  }

  function parseBody(body: Buffer): unknown {
    if (body.length === 0) return {};
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new ApiError('InvalidParameter', `The request body is not valid JSON: ${(e as Error).message}.`);
    }
    if (nestingDepth(value, MAX_DEPTH) > MAX_DEPTH)
      throw new ApiError('InvalidParameter', `The request body nests deeper than ${MAX_DEPTH} levels; no action takes parameters that deep.`);
    return value;
  }

  function context(cached: Account, requestId: string, def: ActionDef, params: Record<string, unknown>): Ctx {
    const tokenName = def.idempotencyToken;
    const token = tokenName ? (params[tokenName] as string | undefined) : undefined;
    // The key cache may hold quotas a few seconds old; a write re-reads them in
    // its own transaction, so a raised quota counts from the next write on and
    // the check is consistent with the usage it is compared to.
    let quotas = cached.quotas;
    // Set while a write's own read of the quotas is on its way (see Ctx.quotas).
    let landing: Promise<void> | undefined;
    const account: Account = {
      ...cached,
      get quotas() {
        if (landing) throw new Error('account.quotas read in a write before any answer: await ctx.quotas() first');
        return quotas;
      },
      set quotas(q) {
        quotas = q;
      },
    };
    return {
      store: o.store,
      db: o.store.db,
      account,
      region: o.region,
      requestId,
      documents: o.documents,
      regionStatus: o.regionStatus,
      tasks,
      async write<T extends object>(fn: (w: Write) => Promise<T>): Promise<T> {
        return o.store.write(async (w) => {
          // Sent first and not waited for, the quota read travels with BEGIN and the handler's first
          // statements (on PostgreSQL, one round trip); every answer the handler gets waits for it.
          const fresh = (landing = quotasOf(w.tx, account.uin).then((q) => void (quotas = q ?? quotas)).finally(() => (landing = undefined)));
          fresh.catch(() => {}); // a failure reaches the handler through its own statements, and is rethrown below
          const result = await fn({ ...w, tx: w.tx.withPlugin(answersAfter(fresh)) });
          await fresh;
          if (!token) return result;
          await w.tx
            .insertInto('idempotency')
            .values({ account: account.uin, action: def.name, token, params_hash: paramsHash(params, tokenName!), response: JSON.stringify(result), created_at: w.now })
            .execute();
          return result;
        });
      },
      async quotas() {
        await landing;
        return quotas;
      },
    };
  }

  /** The stored response for a repeated idempotency token, if any. */
  async function replay(account: Account, def: ActionDef, params: Record<string, unknown>): Promise<Response | undefined> {
    const tokenName = def.idempotencyToken;
    const token = tokenName && (params[tokenName] as string | undefined);
    if (!token) return undefined;
    const r = await o.store.db
      .selectFrom('idempotency')
      .select(['params_hash', 'response'])
      .where('account', '=', account.uin)
      .where('action', '=', def.name)
      .where('token', '=', token)
      .executeTakeFirst();
    if (!r) return undefined;
    if (r.params_hash !== paramsHash(params, tokenName))
      throw new ApiError(
        'IdempotentParameterMismatch',
        `The ${tokenName} \`${token}\` was already used with different parameters; use a new ${tokenName} for a different request.`,
      );
    return JSON.parse(r.response) as Response;
  }

  async function dispatch(req: RawRequest, requestId: string): Promise<{ action?: string; response: Response }> {
    if (req.method !== 'POST')
      throw new ApiError('UnsupportedProtocol', `HTTP ${req.method} is not supported; send POST / with a JSON body signed with TC3-HMAC-SHA256.`);
    if (req.oversize || req.body.length > bodyLimit)
      throw new ApiError('RequestSizeLimitExceeded', `The request body exceeds ${bodyLimit} bytes.`);
    const contentType = header(req.headers, 'content-type') ?? '';
    if (!/^application\/json\b/i.test(contentType))
      throw new ApiError('InvalidParameter', `Content-Type \`${contentType}\` is not supported; send application/json.`);
    const actionName = header(req.headers, 'x-tc-action');
    if (!actionName) throw missingParameter('X-TC-Action');
    const account = await authenticate(req);
    if (!(await limiter.take(account.uin)))
      throw new ApiError('RequestLimitExceeded', `Too many requests for this account (limit ${limiter.perSecond}/s); retry later.`);
    const def = byName.get(actionName);
    if (!def) throw new ApiError('InvalidAction', `The action \`${actionName}\` is not found; see \`weft --help\` for the supported actions.`);
    const version = header(req.headers, 'x-tc-version');
    if (!version) throw missingParameter('X-TC-Version');
    if (version !== SERVICE_VERSIONS[def.service])
      throw new ApiError('NoSuchVersion', `The ${def.service} service has no API version \`${version}\`; use ${SERVICE_VERSIONS[def.service]}.`);
    const region = header(req.headers, 'x-tc-region');
    if (!region && !def.regionless) throw missingParameter('X-TC-Region');
    if (region && region !== o.region.name)
      throw new ApiError('UnsupportedRegion', `The region \`${region}\` is not served here; this endpoint serves \`${o.region.name}\`.`);
    const params = def.params.parse(parseBody(req.body), '') as Record<string, unknown>;
    const ctx = context(account, requestId, def, params);
    const replayed = await replay(account, def, params);
    if (replayed) return { action: def.name, response: replayed };
    try {
      return { action: def.name, response: await def.run(ctx, params) };
    } catch (e) {
      // Two retries raced with the same token: the loser returns the winner's answer.
      if (def.idempotencyToken && isUniqueViolation(e)) {
        const again = await replay(account, def, params);
        if (again) return { action: def.name, response: again };
      }
      throw e;
    }
  }

  function handle(req: RawRequest): Promise<ApiReply> {
    const requestId = newRequestId();
    return withRequestId(requestId, async () => {
      const t0 = performance.now();
      const reply = await answer(req, requestId);
      const seconds = (performance.now() - t0) / 1000;
      // Only known action names as labels: a client cannot grow the metric with made-up ones.
      o.observe?.(reply.action && byName.has(reply.action) ? reply.action : 'unknown', reply.error ?? 'OK', seconds);
      const { action, error } = reply;
      log.info({ action, ...(error ? { error } : {}), ms: Math.round(seconds * 10_000) / 10 }, error ? `${action ?? '?'} answered ${error}` : `${action} done`);
      return reply;
    });
  }

  async function answer(req: RawRequest, requestId: string): Promise<ApiReply> {
    try {
      const { action, response } = await dispatch(req, requestId);
      return { status: 200, action, body: JSON.stringify({ Response: { ...response, RequestId: requestId } }) };
    } catch (e) {
      const err = e instanceof ApiError ? e : internal(e, requestId);
      return {
        status: 200,
        action: header(req.headers, 'x-tc-action'),
        error: err.code,
        body: JSON.stringify({ Response: { Error: { Code: err.code, Message: err.message }, RequestId: requestId } }),
      };
    }
  }

  return { handle, bodyLimit };
}

/** A Kysely plugin that holds back every query's answer until `ready` settles (and fails it if `ready` fails). */
function answersAfter(ready: Promise<void>): KyselyPlugin {
  return {
    transformQuery: (a) => a.node,
    transformResult: async (a) => {
      await ready;
      return a.result;
    },
  };
}

/** Deepest JSON nesting accepted; Tencent's request models nest a handful of levels. */
const MAX_DEPTH = 32;

/** Nesting depth of a parsed JSON value, counted without recursion and given up past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

const log = logger('api');

function internal(e: unknown, requestId: string): ApiError {
  if (storeUnavailable(e)) {
    log.warn({ err: e instanceof Error ? e.message : String(e) }, 'the store is unavailable');
    return new ApiError('ServiceUnavailable', `The region's store cannot be reached right now; retry in a few seconds (a change cut off mid-commit may have been made: where the action takes a ClientToken, retry with the same one). RequestId ${requestId}.`);
  }
  log.error({ err: e }, 'internal error');
  return new ApiError('InternalError', `An internal error occurred; report RequestId ${requestId}.`);
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function paramsHash(params: Record<string, unknown>, tokenName: string): string {
  const { [tokenName]: _token, ...rest } = params;
  return createHash('sha256').update(stableJson(rest)).digest('hex');
}

/** Serves the API over HTTP; `metrics`, when given, answers GET /metrics (Prometheus text); GET /console… is the web console. */
export function serveHttp(api: ReturnType<typeof createApi>, metrics?: { render(): Promise<string>; contentType: string }): Server {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let oversize = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > api.bodyLimit) oversize = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/health')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.method === 'GET' && isConsolePath(req.url ?? '')) {
        void serveConsole(req.url!, res);
        return;
      }
      if (metrics && req.method === 'GET' && req.url === '/metrics') {
        metrics.render().then(
          (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(e)}\n`),
        );
        return;
      }
      void api
        .handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks), oversize })
        .then((reply) => {
          const trace = req.headers['x-tc-traceid'];
          res.writeHead(reply.status, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(reply.body),
            ...(typeof trace === 'string' ? { 'x-tc-traceid': trace } : {}),
          });
          res.end(reply.body);
        });
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
