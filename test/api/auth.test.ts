/**
 * Authentication and request routing at the front, against a real server:
 * every way a request can fail before an action runs answers with its own
 * Tencent code, HTTP 200 and a RequestId, and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { utcDate } from '../../src/api/tc3-signature.js';
import { ACTIONS } from '../../src/api/registry.js';
import { now, raw, revision, type RawReply, type RawRequest } from '../helpers/raw.js';
import { engineName, startRegion, type TestRegion } from '../helpers/region.js';

const createBody = JSON.stringify({ VpcName: 'auth-probe', CidrBlock: '10.1.0.0/16' });
const DAY = 86_400;

function expectCode(reply: RawReply, code: string, label: string) {
  assert.equal(reply.status, 200, `${label}: HTTP status`);
  assert.ok(reply.json, `${label}: body is not JSON: ${reply.text.slice(0, 200)}`);
  assert.match(reply.json.Response.RequestId ?? '', /^[0-9a-f-]{36}$/, `${label}: RequestId`);
  assert.equal(reply.code, code, `${label}: ${reply.message}`);
  assert.ok(reply.message && reply.message.length > 10, `${label}: a message that says what to fix`);
}

describe(`authentication and routing at the API front (${engineName()})`, () => {
  let r: TestRegion;
  let good: RawRequest;
  before(async () => {
    r = await startRegion();
    good = { secretId: r.admin.SecretId, secretKey: r.admin.SecretKey, action: 'CreateVpc', body: createBody };
  });
  after(async () => r?.stop());

  it('accepts the crafted request itself (so each failure below is due to its one change)', async () => {
    const before = await revision(r);
    const reply = await raw(r.endpoint, good);
    assert.equal(reply.code, undefined, reply.message);
    assert.match(String((reply.json!.Response.Vpc as { VpcId: string }).VpcId), /^vpc-/);
    assert.ok((await revision(r)) > before, 'the write is visible in the revision');
  });

  it('accepts a Host signed with its port (Go SDK style) and any service name in the scope', async () => {
    for (const variant of [{ hostPort: true }, { service: 'vpc' }, { service: '127' }, { service: 'localhost:9999' }])
      assert.equal((await raw(r.endpoint, { ...good, action: 'DescribeVpcs', body: '{}', ...variant })).code, undefined, JSON.stringify(variant));
  });

  const cases: [string, (g: RawRequest) => RawRequest, string][] = [
    ['wrong secret key', (g) => ({ ...g, secretKey: g.secretKey.slice(0, -1) + (g.secretKey.endsWith('x') ? 'y' : 'x') }), 'AuthFailure.SignatureFailure'],
    ['body tampered after signing', (g) => ({ ...g, tamper: { body: createBody.replace('auth-probe', 'auth-probf') } }), 'AuthFailure.SignatureFailure'],
    ['body extended after signing', (g) => ({ ...g, tamper: { body: createBody + ' ' } }), 'AuthFailure.SignatureFailure'],
    [
      'signed header X-TC-Action changed after signing',
      (g) => ({ ...g, signedHeaders: ['content-type', 'host', 'x-tc-action'], tamper: { headers: { 'x-tc-action': 'DeleteVpc' } } }),
      'AuthFailure.SignatureFailure',
    ],
    [
      'SignedHeaders list edited after signing',
      (g) => ({ ...g, signedHeaders: ['content-type', 'host', 'x-tc-action'], tamper: { authorization: (a) => a.replace('content-type;host;x-tc-action', 'content-type;host') } }),
      'AuthFailure.SignatureFailure',
    ],
    ['SignedHeaders without host', (g) => ({ ...g, signedHeaders: ['content-type'] }), 'AuthFailure.SignatureFailure'],
    ['signed Host header changed', (g) => ({ ...g, tamper: { headers: { host: 'evil.example:1' } } }), 'AuthFailure.SignatureFailure'],
    ['signed Content-Type changed', (g) => ({ ...g, tamper: { headers: { 'content-type': 'application/json; charset=utf-8' } } }), 'AuthFailure.SignatureFailure'],
    ['service in the scope changed', (g) => ({ ...g, tamper: { authorization: (a) => a.replace('/127/', '/vpc/') } }), 'AuthFailure.SignatureFailure'],
    ['credential date the day before the timestamp', (g) => ({ ...g, date: utcDate(now() - DAY) }), 'AuthFailure.SignatureFailure'],
    ['credential date the day after the timestamp', (g) => ({ ...g, date: utcDate(now() + DAY) }), 'AuthFailure.SignatureFailure'],
    ['timestamp 6 min in the past', (g) => ({ ...g, timestamp: now() - 360 }), 'AuthFailure.SignatureExpire'],
    ['timestamp 6 min in the future', (g) => ({ ...g, timestamp: now() + 360 }), 'AuthFailure.SignatureExpire'],
    ['timestamp in milliseconds', (g) => ({ ...g, timestamp: Date.now(), date: utcDate(now()) }), 'AuthFailure.SignatureExpire'],
    ['timestamp not a number', (g) => ({ ...g, timestamp: null, tamper: { headers: { 'x-tc-timestamp': 'yesterday' } } }), 'AuthFailure.SignatureFailure'],
    ['unknown SecretId', (g) => ({ ...g, secretId: 'AKID' + 'x'.repeat(32) }), 'AuthFailure.SecretIdNotFound'],
    ['garbage Authorization', (g) => ({ ...g, authorization: 'garbage' }), 'AuthFailure.InvalidAuthorization'],
    ['Bearer token', (g) => ({ ...g, authorization: 'Bearer abc.def.ghi' }), 'AuthFailure.InvalidAuthorization'],
    ['TC3 header cut short', (g) => ({ ...g, tamper: { authorization: (a) => a.slice(0, a.indexOf(', Signature')) } }), 'AuthFailure.InvalidAuthorization'],
    ['signature not hex', (g) => ({ ...g, tamper: { authorization: (a) => a.replace(/Signature=.{4}/, 'Signature=zzzz') } }), 'AuthFailure.InvalidAuthorization'],
    ['HmacSHA1 (v1) algorithm name', (g) => ({ ...g, tamper: { authorization: (a) => a.replace('TC3-HMAC-SHA256', 'HmacSHA1') } }), 'AuthFailure.InvalidAuthorization'],
    ['unsigned (SKIP) request', (g) => ({ ...g, authorization: 'SKIP' }), 'AuthFailure.SignatureFailure'],
    ['no Authorization', (g) => ({ ...g, authorization: null }), 'MissingParameter'],
    ['no X-TC-Action', (g) => ({ ...g, action: null }), 'MissingParameter'],
    ['no X-TC-Version', (g) => ({ ...g, version: null }), 'MissingParameter'],
    ['no X-TC-Timestamp', (g) => ({ ...g, timestamp: null }), 'MissingParameter'],
    ['no X-TC-Region', (g) => ({ ...g, region: null }), 'MissingParameter'],
    ['unknown action', (g) => ({ ...g, action: 'CreateVpcs' }), 'InvalidAction'],
    ['action of another cloud product', (g) => ({ ...g, action: 'SendSms' }), 'InvalidAction'],
    ['unknown version', (g) => ({ ...g, version: '2020-01-01' }), 'NoSuchVersion'],
    ['clb version for a vpc action', (g) => ({ ...g, version: '2018-03-17' }), 'NoSuchVersion'],
    ['region not served here', (g) => ({ ...g, region: 'ap-guangzhou' }), 'UnsupportedRegion'],
  ];

  for (const [label, make, code] of cases)
    it(`${label} → ${code}`, async () => {
      const before = await revision(r);
      const req = make(good);
      const reply = await raw(r.endpoint, req);
      expectCode(reply, code, label);
      if (code === 'MissingParameter') {
        const missing = /no (\S+)/.exec(label)![1]!;
        assert.ok(reply.message!.includes(missing), `the message names ${missing}: ${reply.message}`);
      }
      assert.equal(await revision(r), before, `${label}: nothing was written`);
    });

  it('accepts timestamps 4 min in the past and in the future', async () => {
    for (const skew of [-240, 240]) {
      const reply = await raw(r.endpoint, { ...good, action: 'DescribeVpcs', body: '{}', timestamp: now() + skew });
      assert.equal(reply.code, undefined, `skew ${skew}: ${reply.message}`);
    }
  });

  it('answers DescribeRegions without a region', async (t) => {
    const def = ACTIONS.find((a) => a.name === 'DescribeRegions');
    if (!def) {
      const why = 'DescribeRegions is not implemented yet (src/api/cvm/regions.ts)';
      console.log(`# skipped: ${why}`);
      t.skip(why);
      return;
    }
    const reply = await raw(r.endpoint, { ...good, action: 'DescribeRegions', body: '{}', region: null });
    assert.equal(reply.code, undefined, reply.message);
    const set = reply.json!.Response.RegionSet as { Region: string }[];
    assert.ok(set.some((x) => x.Region === 'local'), JSON.stringify(set));
    // A regional action still needs one.
    expectCode(await raw(r.endpoint, { ...good, action: 'DescribeVpcs', body: '{}', region: null }), 'MissingParameter', 'DescribeVpcs without region');
  });
});
