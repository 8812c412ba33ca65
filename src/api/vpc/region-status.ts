/**
 * DescribeRegionStatus: a Weft extension of the vpc service (not a Tencent
 * action) — the region at a glance, as `weft status` prints it
 * (controller/region-status.ts): the controller, the store, and every host
 * with its agent's connection, compiled against applied revision, last audit
 * and drift found and repaired. The hosts are the operator's to see: only
 * the region's admin account (the one `weft up` and `weft server` make) may
 * call it. Reference: docs/trace.md (Weft extension actions).
 */
import { defineAction } from '../action.js';
import { ApiError } from '../errors.js';
import { obj, opt, int } from '../params.js';
import { regionStatus } from '../../controller/region-status.js';
import { pascal } from './trace.js';

export const describeRegionStatus = defineAction({
  service: 'vpc',
  name: 'DescribeRegionStatus',
  params: obj({ RecentDriftLimit: opt(int({ min: 0, max: 100 })) }),
  async run(ctx, p) {
    if (ctx.account.name !== 'admin')
      throw new ApiError('UnauthorizedOperation', "DescribeRegionStatus shows the region's hosts: only the region's admin account may call it.");
    const recent = p.RecentDriftLimit ?? 5;
    const status = ctx.regionStatus
      ? await ctx.regionStatus({ recent })
      : await regionStatus(ctx.store, { controller: { up: true, pid: process.pid, address: null }, documents: ctx.documents, recent });
    return pascal(status) as Record<string, unknown>;
  },
});
