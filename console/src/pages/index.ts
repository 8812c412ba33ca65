/** Every page of the console, in the order of the navigation. Each later resource adds its line. */
import type { ComponentType } from 'react';
import { VpcsPage } from './vpcs';
import { TopologyPage } from './topology';

export interface PageDef {
  path: string;
  title: string;
  component: ComponentType<{ params: string[] }>;
}

export const PAGES: PageDef[] = [
  { path: 'vpcs', title: 'VPCs', component: VpcsPage },
  { path: 'topology', title: 'Topology', component: TopologyPage },
];
