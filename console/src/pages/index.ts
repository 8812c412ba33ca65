/** Every page of the console, in the order of the navigation. Each later resource adds its line. */
import type { ComponentType } from 'react';
import { VpcsPage } from './vpcs';
import { EipsPage } from './eips';
import { NatGatewaysPage } from './nat-gateways';
import { LoadBalancersPage } from './load-balancers';
import { FlowLogsPage } from './flow-logs';
import { MetricsPage } from './metrics';
import { StatusPage } from './status';

export interface PageDef {
  path: string;
  title: string;
  component: ComponentType<{ params: string[] }>;
}

export const PAGES: PageDef[] = [
  { path: 'vpcs', title: 'VPCs', component: VpcsPage },
  { path: 'eips', title: 'Elastic IPs', component: EipsPage },
  { path: 'nat-gateways', title: 'NAT gateways', component: NatGatewaysPage },
  { path: 'load-balancers', title: 'Load balancers', component: LoadBalancersPage },
  { path: 'flow-logs', title: 'Flow logs', component: FlowLogsPage },
  { path: 'metrics', title: 'Metrics', component: MetricsPage },
  { path: 'status', title: 'Region status', component: StatusPage },
];
