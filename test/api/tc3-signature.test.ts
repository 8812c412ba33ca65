/**
 * TC3-HMAC-SHA256 as Weft computes and verifies it, held to the official
 * Node.js SDK's own signer (tencentcloud-sdk-nodejs-common sign.js) on
 * generated requests, and to the Go SDK's variant (Host signed with its port).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import SignModule from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import { authorize, parseAuthorization, signature, signatureMatches, utcDate, type SignedRequest } from '../../src/api/tc3-signature.js';

const Sign = SignModule.default;

/** What the SDK signs for `POST http(s)://host/` with this body, as Weft's signer sees it. */
function sdkAuthorization(o: { host: string; body: Buffer; timestamp: number; service: string; secretId: string; secretKey: string; contentType: string }) {
  return Sign.sign3({
    method: 'POST',
    url: `http://${o.host}/`,
    payload: o.body,
    timestamp: o.timestamp,
    service: o.service,
    secretId: o.secretId,
    secretKey: o.secretKey,
    multipart: false,
    boundary: '',
    headers: { 'Content-Type': o.contentType, Host: o.host },
  });
}

const arbHost = fc.oneof(
  fc.integer({ min: 1, max: 65535 }).map((p) => `127.0.0.1:${p}`),
  fc.integer({ min: 1, max: 65535 }).map((p) => `localhost:${p}`),
  fc.integer({ min: 1, max: 65535 }).map((p) => `[::1]:${p}`),
  fc.constantFrom('vpc.tencentcloudapi.com', 'cvm.ap-guangzhou.tencentcloudapi.com', 'weft.internal'),
);
const arbRequest = fc.record({
  host: arbHost,
  body: fc.oneof(fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))),
  // 2001 to 2100: the date part of the scope changes with it.
  timestamp: fc.integer({ min: 1_000_000_000, max: 4_102_444_800 }),
  secretId: fc.stringMatching(/^AKID[A-Za-z0-9]{32}$/),
  secretKey: fc.string({ minLength: 1, maxLength: 40 }),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
});
// The SDK names the service after the first label of the endpoint: "127" for 127.0.0.1:9080.
const serviceOf = (host: string) => host.split('.')[0]!;
type Req = typeof arbRequest extends fc.Arbitrary<infer T> ? T : never;
const asWeft = (o: Pick<Req, 'host' | 'body' | 'timestamp'> & { contentType: string }): SignedRequest => ({
  method: 'POST',
  path: '/',
  query: '',
  headers: { host: o.host, 'content-type': o.contentType },
  body: o.body,
  timestamp: o.timestamp,
});

describe('TC3-HMAC-SHA256', () => {
  it('computes exactly the Authorization header of the official SDK’s sign.js', () => {
    fc.assert(
      fc.property(arbRequest, (o) => {
        const service = serviceOf(o.host);
        assert.equal(authorize(asWeft(o), o.secretId, o.secretKey, service), sdkAuthorization({ ...o, service }));
      }),
      { numRuns: 300 },
    );
  });

  it('verifies what the SDK signs, and nothing the SDK did not sign', () => {
    fc.assert(
      fc.property(arbRequest, fc.nat(), (o, pick) => {
        const service = serviceOf(o.host);
        const auth = parseAuthorization(sdkAuthorization({ ...o, service }))!;
        assert.ok(auth, 'the SDK’s header parses');
        assert.deepEqual([auth.secretId, auth.date, auth.service, auth.signedHeaders], [o.secretId, utcDate(o.timestamp), service, ['content-type', 'host']]);
        const req = asWeft(o);
        assert.ok(signatureMatches(req, auth, o.secretKey));
        // One change at a time, each of which must break the signature.
        const flipped = Buffer.from(o.body.length ? o.body : Buffer.from(' '));
        flipped[pick % flipped.length] ^= 1 << pick % 8;
        const spoiled: [string, SignedRequest, typeof auth, string][] = [
          ['body', { ...req, body: o.body.length ? flipped : Buffer.from('x') }, auth, o.secretKey],
          ['timestamp', { ...req, timestamp: o.timestamp + 1 }, auth, o.secretKey],
          ['secret key', req, auth, o.secretKey + 'x'],
          ['service', req, { ...auth, service: service + 'x' }, o.secretKey],
          ['date', req, { ...auth, date: utcDate(o.timestamp + 86_400) }, o.secretKey],
          ['host', { ...req, headers: { ...req.headers, host: 'x' + o.host } }, auth, o.secretKey],
          ['content type', { ...req, headers: { ...req.headers, 'content-type': 'text/plain' } }, auth, o.secretKey],
          ['method', { ...req, method: 'GET' }, auth, o.secretKey],
          ['path', { ...req, path: '/x' }, auth, o.secretKey],
          ['query', { ...req, query: 'a=1' }, auth, o.secretKey],
        ];
        for (const [what, r, a, k] of spoiled) assert.equal(signatureMatches(r, a, k), false, what);
      }),
      { numRuns: 200 },
    );
  });

  it('also verifies a Host signed with its port, as the Go SDK signs it', () => {
    const o = { host: '127.0.0.1:9080', body: Buffer.from('{"Limit":1}'), timestamp: 1_700_000_000, secretId: 'AKID' + 'a'.repeat(32), secretKey: 'k', contentType: 'application/json' };
    const req = asWeft(o);
    const goStyle = authorize(req, o.secretId, o.secretKey, 'vpc', ['content-type', 'host'], true);
    const nodeStyle = authorize(req, o.secretId, o.secretKey, 'vpc');
    assert.notEqual(goStyle, nodeStyle, 'the two styles really differ');
    assert.ok(signatureMatches(req, parseAuthorization(goStyle)!, o.secretKey));
    assert.ok(signatureMatches(req, parseAuthorization(nodeStyle)!, o.secretKey));
    // Without a port there is one style only, and a wrong port is still wrong.
    assert.equal(signatureMatches({ ...req, headers: { ...req.headers, host: '127.0.0.1:9081' } }, parseAuthorization(goStyle)!, o.secretKey), false);
  });

  it('signs extra headers when asked, and their values count', () => {
    const req: SignedRequest = { ...asWeft({ host: 'h:1', body: Buffer.from('{}'), timestamp: 1_700_000_000, contentType: 'application/json' }) };
    req.headers = { ...req.headers, 'x-tc-action': 'DescribeVpcs' };
    const auth = parseAuthorization(authorize(req, 'AKIDx', 'k', 'vpc', ['content-type', 'host', 'x-tc-action']))!;
    assert.ok(signatureMatches(req, auth, 'k'));
    assert.equal(signatureMatches({ ...req, headers: { ...req.headers, 'x-tc-action': 'DeleteVpc' } }, auth, 'k'), false);
    // Header values are canonicalised as Tencent documents: trimmed, lower case.
    assert.ok(signatureMatches({ ...req, headers: { ...req.headers, 'x-tc-action': '  describevpcs ' } }, auth, 'k'));
  });

  it('parses well-formed Authorization headers and nothing else', () => {
    const sig = 'a'.repeat(64);
    const ok = parseAuthorization(`TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/127/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`);
    assert.deepEqual(ok, { secretId: 'AKIDx', date: '2024-02-29', service: '127', signedHeaders: ['content-type', 'host'], signature: sig });
    assert.equal(parseAuthorization(`TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/localhost:9080/tc3_request,SignedHeaders=host,Signature=${sig}`)?.service, 'localhost:9080');
    for (const bad of [
      '',
      'garbage',
      'SKIP',
      `Bearer ${sig}`,
      `TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/vpc/tc3_request, SignedHeaders=content-type;host`,
      `TC3-HMAC-SHA256 Credential=AKIDx/2024-2-29/vpc/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/vpc/tc4_request, SignedHeaders=content-type;host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/vpc/tc3_request, SignedHeaders=Content-Type;Host, Signature=${sig}`,
      `TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/vpc/tc3_request, SignedHeaders=content-type;host, Signature=${sig.slice(1)}`,
      `TC3-HMAC-SHA256 Credential=AKIDx/2024-02-29/vpc/tc3_request, SignedHeaders=content-type;host, Signature=${'A'.repeat(64)}`,
      `HmacSHA256 Credential=AKIDx/2024-02-29/vpc/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
    ])
      assert.equal(parseAuthorization(bad), undefined, bad);
  });

  it('dates the scope in UTC', () => {
    assert.equal(utcDate(0), '1970-01-01');
    assert.equal(utcDate(86_399), '1970-01-01');
    assert.equal(utcDate(86_400), '1970-01-02');
    assert.equal(utcDate(1_709_164_800), '2024-02-29');
  });

  it('gives a different signature for every secret key (sanity of the key derivation)', () => {
    const req = asWeft({ host: 'h', body: Buffer.from('{}'), timestamp: 1_700_000_000, contentType: 'application/json' });
    const auth = { secretId: 'AKIDx', date: utcDate(req.timestamp), service: 'vpc', signedHeaders: ['content-type', 'host'] };
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => a === b || signature(req, auth, a) !== signature(req, auth, b)));
  });
});
