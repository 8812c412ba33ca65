import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { engineName, errorCode, startRegion, type TestRegion } from '../helpers/region.js';

describe(`DescribeRegions and DescribeZones through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  before(async () => (r = await startRegion()));
  after(async () => r?.stop());

  /** A cvm client that sends no X-TC-Region at all (the SDK omits the header when region is empty). */
  const regionless = () =>
    new CvmClient({
      credential: { secretId: r.admin.SecretId, secretKey: r.admin.SecretKey },
      region: '',
      profile: { httpProfile: { endpoint: r.endpoint, protocol: 'http://' } },
    });

  it('DescribeRegions answers with the served region, with or without X-TC-Region', async () => {
    const expected = { TotalCount: 1, RegionSet: [{ Region: 'local', RegionName: 'Weft (local)', RegionState: 'AVAILABLE' }] };
    const withRegion = await r.cvm().DescribeRegions();
    assert.deepEqual({ TotalCount: withRegion.TotalCount, RegionSet: withRegion.RegionSet }, expected);
    const without = await regionless().DescribeRegions();
    assert.deepEqual({ TotalCount: without.TotalCount, RegionSet: without.RegionSet }, expected);
  });

  it('DescribeZones lists the zones of the region and needs X-TC-Region', async () => {
    const z = await r.cvm().DescribeZones();
    assert.equal(z.TotalCount, 2);
    assert.deepEqual(z.ZoneSet, [
      { Zone: 'local-1', ZoneName: 'local zone 1', ZoneId: '900001', ZoneState: 'AVAILABLE' },
      { Zone: 'local-2', ZoneName: 'local zone 2', ZoneId: '900002', ZoneState: 'AVAILABLE' },
    ]);
    assert.equal(await errorCode(regionless().DescribeZones()), 'MissingParameter');
  });

  it('rejects another region and unknown parameters', async () => {
    const other = new CvmClient({
      credential: { secretId: r.admin.SecretId, secretKey: r.admin.SecretKey },
      region: 'ap-guangzhou',
      profile: { httpProfile: { endpoint: r.endpoint, protocol: 'http://' } },
    });
    assert.equal(await errorCode(other.DescribeRegions()), 'UnsupportedRegion');
    assert.equal(await errorCode(other.DescribeZones()), 'UnsupportedRegion');
    const cvm = r.cvm() as unknown as { request(action: string, req: unknown): Promise<unknown> };
    assert.equal(await errorCode(cvm.request('DescribeZones', { Foo: 1 })), 'UnknownParameter');
  });
});
