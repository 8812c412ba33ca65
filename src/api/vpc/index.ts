/** The vpc service (2017-03-12). */
import type { ActionDef } from '../action.js';
import { eipActions } from './eips.js';
import { flowLogActions } from './flow-logs.js';
import { gatewayFlowActions } from './gateway-flows.js';
import { natGatewayActions } from './nat-gateways.js';
import { natRuleActions } from './nat-rules.js';
import { networkAclActions } from './network-acls.js';
import { peeringActions } from './peering.js';
import { privateIpActions } from './private-ips.js';
import { routeTableActions } from './route-tables.js';
import { routeActions } from './routes.js';
import { securityGroupActions } from './security-groups.js';
import { subnetActions } from './subnets.js';
import { taskActions } from './tasks.js';
import { traceActions } from './trace.js';
import { describeRegionStatus } from './region-status.js';
import { vpcActionsList } from './vpcs.js';

export const vpcActions: readonly ActionDef[] = [
  ...vpcActionsList,
  ...subnetActions,
  ...securityGroupActions,
  ...privateIpActions,
  ...routeTableActions,
  ...routeActions,
  ...taskActions,
  ...traceActions,
  describeRegionStatus,
  ...networkAclActions,
  ...peeringActions,
  ...eipActions,
  ...natGatewayActions,
  ...natRuleActions,
  ...gatewayFlowActions,
  ...flowLogActions,
];
