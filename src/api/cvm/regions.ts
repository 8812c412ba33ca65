/**
 * DescribeRegions and DescribeZones: the one region this controller serves and
 * its zones. DescribeRegions is callable without X-TC-Region, as on Tencent.
 */
import type { RegionInfo, ZoneInfo } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_models.js';
import { defineAction } from '../action.js';
import { obj } from '../params.js';

export const describeRegions = defineAction({
  service: 'cvm',
  name: 'DescribeRegions',
  params: obj({}),
  regionless: true,
  async run(ctx) {
    const regions: RegionInfo[] = [{ Region: ctx.region.name, RegionName: `Weft (${ctx.region.name})`, RegionState: 'AVAILABLE' }];
    return { TotalCount: regions.length, RegionSet: regions };
  },
});

export const describeZones = defineAction({
  service: 'cvm',
  name: 'DescribeZones',
  params: obj({}),
  async run(ctx) {
    const zones: ZoneInfo[] = ctx.region.zones.map((z, i) => ({
      Zone: z.name,
      ZoneName: `${ctx.region.name} zone ${i + 1}`,
      ZoneId: z.id,
      ZoneState: 'AVAILABLE',
    }));
    return { TotalCount: zones.length, ZoneSet: zones };
  },
});

export const regionActions = [describeRegions, describeZones];
