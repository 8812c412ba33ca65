/** Every page of the console, in the order of the navigation. Each later resource adds its line. */
import type { ComponentType } from 'react';
import { InstancesPage } from './instances';
import { NetworkAclsPage } from './network-acls';
import { PeeringPage } from './peering';
import { RouteTablesPage } from './route-tables';
import { SecurityGroupsPage } from './security-groups';
import { SubnetsPage } from './subnets';
import { VpcsPage } from './vpcs';
import { EipsPage } from './eips';
import { NatGatewaysPage } from './nat-gateways';
import { LoadBalancersPage } from './load-balancers';
import { FlowLogsPage } from './flow-logs';
import { NetDetectsPage } from './net-detects';
import { MetricsPage } from './metrics';
import { StatusPage } from './status';
import { TopologyPage } from './topology';

export interface PageDef {
  path: string;
  title: string;
  component: ComponentType<{ params: string[] }>;
}

export const PAGES: PageDef[] = [
  { path: 'vpcs', title: 'VPCs', component: VpcsPage },
  { path: 'topology', title: 'Topology', component: TopologyPage },
  { path: 'subnets', title: 'Subnets', component: SubnetsPage },
  { path: 'security-groups', title: 'Security groups', component: SecurityGroupsPage },
  { path: 'instances', title: 'Instances', component: InstancesPage },
  { path: 'route-tables', title: 'Route tables', component: RouteTablesPage },
  { path: 'network-acls', title: 'Network ACLs', component: NetworkAclsPage },
  { path: 'peering', title: 'Peering connections', component: PeeringPage },
  { path: 'eips', title: 'Elastic IPs', component: EipsPage },
  { path: 'nat-gateways', title: 'NAT gateways', component: NatGatewaysPage },
  { path: 'load-balancers', title: 'Load balancers', component: LoadBalancersPage },
  { path: 'flow-logs', title: 'Flow logs', component: FlowLogsPage },
  { path: 'net-detects', title: 'Network detection', component: NetDetectsPage },
  { path: 'metrics', title: 'Metrics', component: MetricsPage },
  { path: 'status', title: 'Region status', component: StatusPage },
];
