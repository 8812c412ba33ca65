/**
 * The API front against a real server: the official SDKs work whatever host
 * name they are pointed at; malformed envelopes of every kind get the right
 * Tencent code, HTTP 200 and a RequestId, never crash the server and never
 * change state; the body limit and the per-account rate limit hold.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { nestingDepth } from '../../src/api/server.js';
import { raw, revision, send, type RawReply, type RawRequest } from '../helpers/raw.js';
import { engineName, errorCode, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

function expectCode(reply: RawReply, code: string, label: string) {
  assert.equal(reply.status, 200, `${label}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
  assert.ok(reply.json, `${label}: body is not JSON: ${reply.text.slice(0, 200)}`);
  assert.match(reply.json.Response.RequestId ?? '', /^[0-9a-f-]{36}$/, `${label}: RequestId`);
  assert.equal(reply.code, code, `${label}: ${reply.message}`);
  assert.doesNotMatch(reply.message ?? '', /\n\s+at /, `${label}: no stack trace in the message`);
}

/** JSON text nested `depth` levels, objects and arrays in turn (built as text: JSON.stringify would overflow). */
const nest = (depth: number) => {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 ? '[' : '{"a":';
    close = (i % 2 ? ']' : '}') + close;
  }
  return `${open}1${close}`;
};
const withParam = (name: string, jsonText: string) => `{"VpcName":"e","CidrBlock":"10.0.0.0/16","${name}":${jsonText}}`;
const deepArrayText = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe(`the official SDKs against the front (${engineName()})`, () => {
  let r: TestRegion;
  before(async () => (r = await startRegion()));
  after(async () => r?.stop());

  const hosts = () => {
    const port = r.endpoint.split(':').pop()!;
    return [`127.0.0.1:${port}`, `localhost:${port}`];
  };
  const credential = () => ({ secretId: r.admin.SecretId, secretKey: r.admin.SecretKey });

  it('VpcClient works pointed at 127.0.0.1:PORT (scope service "127") and localhost:PORT', async () => {
    for (const endpoint of hosts()) {
      const vpc = new VpcClient({ credential: credential(), region: 'local', profile: { httpProfile: { endpoint, protocol: 'http://' } } });
      const name = `sdk-${endpoint.split(':')[0]}`;
      const created = await vpc.CreateVpc({ VpcName: name, CidrBlock: '10.2.0.0/16' });
      const found = await vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: [name] }] });
      assert.deepEqual(found.VpcSet!.map((v) => v.VpcId), [created.Vpc!.VpcId], endpoint);
      await vpc.DeleteVpc({ VpcId: created.Vpc!.VpcId! });
    }
  });

  it('CommonClient works at both host names, and reports errors with their code', async () => {
    for (const endpoint of hosts()) {
      const c = new CommonClient(endpoint, '2017-03-12', { credential: credential(), region: 'local', profile: { httpProfile: { protocol: 'http://' } } });
      const created = (await c.request('CreateVpc', { VpcName: 'common', CidrBlock: '10.3.0.0/16' })) as { Vpc: { VpcId: string } };
      const got = (await c.request('DescribeVpcs', { VpcIds: [created.Vpc.VpcId] })) as { TotalCount: number; RequestId: string };
      assert.equal(got.TotalCount, 1, endpoint);
      assert.match(got.RequestId, /^[0-9a-f-]{36}$/);
      await c.request('DeleteVpc', { VpcId: created.Vpc.VpcId });
      assert.equal(await errorCode(c.request('DeleteVpc', { VpcId: created.Vpc.VpcId })), 'ResourceNotFound', endpoint);
      assert.equal(await errorCode(c.request('NoSuchThing', {})), 'InvalidAction', endpoint);
    }
  });

  it('rejects an SDK with the wrong secret key', async () => {
    const vpc = new VpcClient({
      credential: { secretId: r.admin.SecretId, secretKey: 'not-the-key' },
      region: 'local',
      profile: { httpProfile: { endpoint: r.endpoint, protocol: 'http://' } },
    });
    assert.equal(await errorCode(vpc.DescribeVpcs({})), 'AuthFailure.SignatureFailure');
  });
});

describe(`envelope robustness (${engineName()})`, () => {
  let r: TestRegion;
  let good: RawRequest;
  before(async () => {
    r = await startRegion();
    good = { secretId: r.admin.SecretId, secretKey: r.admin.SecretKey, action: 'CreateVpc' };
  });
  after(async () => r?.stop());

  const vpcTotal = async () => (await r.vpc().DescribeVpcs({})).TotalCount!;
  const body = (v: unknown) => JSON.stringify(v);
  const ok = { VpcName: 'e', CidrBlock: '10.0.0.0/16' };

  // [label, request change, code]; every request is a CreateVpc, so one wrongly accepted would add a VPC.
  const cases: [string, Partial<RawRequest>, string][] = [
    ['malformed JSON', { body: '{"VpcName": "e", "CidrBlock": ' }, 'InvalidParameter'],
    ['JSON with a trailing comma', { body: '{"VpcName": "e",}' }, 'InvalidParameter'],
    ['JSON with a byte-order mark', { body: '\ufeff' + body(ok) }, 'InvalidParameter'],
    ['invalid UTF-8', { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'InvalidParameter'],
    ['JSON array', { body: '[]' }, 'InvalidParameter'],
    ['JSON array of the parameters', { body: body([ok]) }, 'InvalidParameter'],
    ['JSON number', { body: '42' }, 'InvalidParameter'],
    ['JSON string', { body: '"VpcName"' }, 'InvalidParameter'],
    ['JSON null', { body: 'null' }, 'InvalidParameter'],
    ['JSON true', { body: 'true' }, 'InvalidParameter'],
    ['empty body (no parameters)', { body: '' }, 'MissingParameter'],
    ['Content-Type text/plain', { body: body(ok), contentType: 'text/plain' }, 'InvalidParameter'],
    ['Content-Type form (v1 signature style)', { body: 'VpcName=e&CidrBlock=10.0.0.0%2F16', contentType: 'application/x-www-form-urlencoded' }, 'InvalidParameter'],
    ['Content-Type multipart', { body: body(ok), contentType: 'multipart/form-data; boundary=x' }, 'InvalidParameter'],
    ['no Content-Type', { body: body(ok), contentType: null }, 'InvalidParameter'],
    ['GET', { method: 'GET', body: '' }, 'UnsupportedProtocol'],
    ['PUT', { method: 'PUT', body: body(ok) }, 'UnsupportedProtocol'],
    ['DELETE', { method: 'DELETE', body: body(ok) }, 'UnsupportedProtocol'],
    ['string for a string array (DnsServers)', { body: body({ ...ok, DnsServers: '10.0.0.2' }) }, 'InvalidParameter'],
    ['number for a string (VpcName)', { body: body({ ...ok, VpcName: 42 }) }, 'InvalidParameter'],
    ['object for a string (CidrBlock)', { body: body({ ...ok, CidrBlock: { ip: '10.0.0.0' } }) }, 'InvalidParameter'],
    ['array for a string (VpcName)', { body: body({ ...ok, VpcName: ['e'] }) }, 'InvalidParameter'],
    ['boolean for a string (VpcName)', { body: body({ ...ok, VpcName: true }) }, 'InvalidParameter'],
    ['number for an array element (DnsServers.0)', { body: body({ ...ok, DnsServers: [10] }) }, 'InvalidParameter'],
    ['string for an object array (Tags)', { body: body({ ...ok, Tags: 'env=prod' }) }, 'InvalidParameter'],
    ['number for a nested string (Tags.0.Key)', { body: body({ ...ok, Tags: [{ Key: 1, Value: 'x' }] }) }, 'InvalidParameter'],
    ['overflowing number for a string', { body: '{"VpcName": 1e999, "CidrBlock": "10.0.0.0/16"}' }, 'InvalidParameter'],
    ['not "true"/"false" (EnableMulticast)', { body: body({ ...ok, EnableMulticast: 5 }) }, 'InvalidParameterValue'],
    ['unknown top-level parameter', { body: body({ ...ok, VpcNmae: 'typo' }) }, 'UnknownParameter'],
    ['unknown nested parameter', { body: body({ ...ok, Tags: [{ Key: 'k', Value: 'v', Colour: 'red' }] }) }, 'UnknownParameter'],
    ['lower-case parameter name', { body: body({ vpcName: 'e', CidrBlock: '10.0.0.0/16' }) }, 'UnknownParameter'],
    ['"constructor" as a parameter', { body: body({ ...ok, constructor: 1 }) }, 'UnknownParameter'],
    ['"__proto__" as a parameter', { body: '{"VpcName": "e", "CidrBlock": "10.0.0.0/16", "__proto__": {"x": 1}}' }, 'UnknownParameter'],
    ['"toString" as a nested parameter', { body: body({ ...ok, Tags: [{ Key: 'k', toString: 'x' }] }) }, 'UnknownParameter'],
    ['missing VpcName', { body: body({ CidrBlock: '10.0.0.0/16' }) }, 'MissingParameter'],
    ['missing CidrBlock', { body: body({ VpcName: 'e' }) }, 'MissingParameter'],
    ['missing nested Tags.0.Key', { body: body({ ...ok, Tags: [{ Value: 'v' }] }) }, 'MissingParameter'],
    ['null for a required parameter', { body: body({ VpcName: null, CidrBlock: '10.0.0.0/16' }) }, 'MissingParameter'],
    ['deeply nested junk under an unknown name', { body: withParam('Junk', nest(5000)) }, 'InvalidParameter'],
    ['deeply nested junk in an accepted-and-ignored field', { body: withParam('EnableRouteVpcPublish', nest(40)) }, 'InvalidParameter'],
    ['a million nested arrays', { body: deepArrayText(1_000_000) }, 'InvalidParameter'],
    ['a million nested arrays as a parameter', { body: withParam('Tags', deepArrayText(1_000_000)) }, 'InvalidParameter'],
    ['wide junk: 100000 unknown parameters', { body: body(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`P${i}`, i]))) }, 'UnknownParameter'],
    ['too many tags', { body: body({ ...ok, Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }) }, 'LimitExceeded'],
  ];

  for (const [label, change, code] of cases)
    it(`${label} → ${code}`, async () => {
      const [total, rev] = [await vpcTotal(), await revision(r)];
      expectCode(await raw(r.endpoint, { ...good, ...change }), code, label);
      assert.equal(await vpcTotal(), total, `${label}: TotalCount unchanged`);
      assert.equal(await revision(r), rev, `${label}: revision unchanged`);
    });

  it('stays up after a client aborts mid-body, and serves health checks', async () => {
    const url = new URL(`http://${r.endpoint}/`);
    await new Promise<void>((done) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } });
      req.on('error', () => done());
      req.write('{"VpcName": "half');
      setTimeout(() => {
        req.destroy();
        done();
      }, 50);
    });
    const health = await send(new URL(`http://${r.endpoint}/healthz`), 'GET', {});
    assert.equal(health.status, 200);
    assert.equal(health.text, 'ok\n');
  });

  it('still answers a good request after all of the above, and that one does change state', async () => {
    const [total, rev] = [await vpcTotal(), await revision(r)];
    const reply = await raw(r.endpoint, { ...good, body: body({ VpcName: 'after', CidrBlock: '10.9.0.0/16' }) });
    assert.equal(reply.code, undefined, reply.message);
    assert.equal(await vpcTotal(), total + 1);
    assert.ok((await revision(r)) > rev);
  });
});

describe(`body limit (${engineName()})`, () => {
  let r: TestRegion;
  before(async () => (r = await startRegion(['--body-limit', '1024'])));
  after(async () => r?.stop());

  it('rejects a body over --body-limit with RequestSizeLimitExceeded and accepts one just under', async () => {
    const good = { secretId: r.admin.SecretId, secretKey: r.admin.SecretKey, action: 'CreateVpc' };
    const params = JSON.stringify({ VpcName: 'big', CidrBlock: '10.0.0.0/16' });
    const padded = (size: number) => params.slice(0, -1) + ' '.repeat(size - params.length) + '}';
    const rev = await revision(r);
    expectCode(await raw(r.endpoint, { ...good, body: padded(1025) }), 'RequestSizeLimitExceeded', '1025 bytes');
    expectCode(await raw(r.endpoint, { ...good, body: padded(5 << 20) }), 'RequestSizeLimitExceeded', '5 MiB');
    assert.equal(await revision(r), rev, 'nothing written');
    const fits = await raw(r.endpoint, { ...good, body: padded(1024) });
    assert.equal(fits.code, undefined, fits.message);
    assert.ok((await revision(r)) > rev);
  });

  it('rejects a bad --body-limit as a usage error', async () => {
    const res = await r.weft(['server', '--data-dir', r.dataDir, '--listen', '127.0.0.1:0', '--body-limit', 'lots']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /--body-limit/);
  });
});

describe(`rate limiting (${engineName()})`, () => {
  let r: TestRegion;
  let other: Creds;
  before(async () => {
    r = await startRegion(['--rate-limit', '5']);
    other = await r.newAccount('other');
  });
  after(async () => r?.stop());

  const burst = async (n: number, c?: Creds) => {
    const vpc = r.vpc(c);
    const results = await Promise.all(
      Array.from({ length: n }, () =>
        vpc.DescribeVpcs({}).then(
          () => 'ok',
          (e: { code?: string }) => e.code ?? String(e),
        ),
      ),
    );
    return { ok: results.filter((x) => x === 'ok').length, limited: results.filter((x) => x === 'RequestLimitExceeded').length, all: results };
  };

  it('answers the excess of a burst with RequestLimitExceeded, spares other accounts, and recovers', async () => {
    const a = await burst(40);
    assert.equal(a.ok + a.limited, 40, `only ok or RequestLimitExceeded: ${a.all.join(',')}`);
    // 5/s with a burst allowance of 2 s: about 10 pass at once (a few more refill during the burst).
    assert.ok(a.ok >= 5 && a.ok <= 25, `passed ${a.ok}`);
    assert.ok(a.limited >= 15, `limited ${a.limited}`);

    const b = await burst(3, other);
    assert.equal(b.ok, 3, `another account is not limited: ${b.all.join(',')}`);

    // A token refills every 200 ms, so a second burst right after is still mostly refused.
    const still = await burst(10);
    assert.ok(still.limited >= 5, `still limited right after: ${still.all.join(',')}`);
    await sleep(1500);
    const again = await burst(3);
    assert.equal(again.ok, 3, `recovered after waiting: ${again.all.join(',')}`);
  });
});

describe('nestingDepth (the front’s guard against deep JSON)', () => {
  it('counts container levels and gives up past the limit without recursing', () => {
    assert.equal(nestingDepth(1, 32), 0);
    assert.equal(nestingDepth('x', 32), 0);
    assert.equal(nestingDepth(null, 32), 0);
    assert.equal(nestingDepth({}, 32), 1);
    assert.equal(nestingDepth({ a: [1, { b: [] }], c: 2 }, 32), 4);
    assert.equal(nestingDepth(JSON.parse(nest(32)), 32), 32);
    assert.equal(nestingDepth(JSON.parse(nest(33)), 32), 33);
    assert.ok(nestingDepth(JSON.parse(deepArrayText(1_000_000)), 32) > 32);
  });
});
