/**
 * Regions for the tracer's tests, written the way the API stores them
 * (policies as Tencent's fields) and turned into host documents by the real
 * compiler, so the tests hold the tracer to the documents the Linux driver
 * gets.
 */
import { compileHost, type HostSpan } from '../../src/compile/compile.js';
import type { HostDocument } from '../../src/contract/host-document.js';

export interface PolicySpec {
  protocol: 'TCP' | 'UDP' | 'ICMP' | 'ICMPV6' | 'ALL';
  port?: string;
  cidr?: string;
  ipv6?: string;
  sg?: string;
  action: 'ACCEPT' | 'DROP';
}

export interface ScenarioSpec {
  hosts: Record<string, string>;
  vpcs: { id: string; vni: number }[];
  subnets: Record<string, string>;
  instances: { id: string; vpc: string; subnet: string; ip: string; host: string | null; groups: string[] }[];
  groups: Record<string, { ingress?: PolicySpec[]; egress?: PolicySpec[] }>;
}

const hex = (n: number) => (n & 255).toString(16).padStart(2, '0');
const macOf = (ip: string, vni: number) => `52:54:${hex(vni)}:${ip.split('.').slice(1).map((o) => hex(Number(o))).join(':')}`;

/**
 * A bare address as the compiler hands it to the data plane (`a.b.c.d/32`).
 * The compiler normalises policy peers (contract: Rule.cidr); this keeps the
 * scenarios' documents in that form whichever compiler they are built with.
 */
const normalised = (cidr: string) => (cidr && !cidr.includes('/') ? `${cidr}/32` : cidr);

export function policyRows(groups: ScenarioSpec['groups']): HostSpan['policies'] {
  return Object.entries(groups).flatMap(([sg, g]) =>
    (['ingress', 'egress'] as const).flatMap((direction) =>
      (g[direction] ?? []).map((p, position) => ({
        sg_id: sg,
        direction,
        position,
        protocol: p.protocol,
        port: p.port ?? 'ALL',
        cidr: normalised(p.cidr ?? ''),
        ipv6_cidr: p.ipv6 ?? '',
        ref_sg_id: p.sg ?? '',
        action: p.action,
      })),
    ),
  );
}

/** One document per host, compiled from the whole region (the compiler keeps each host's span). */
export function documents(s: ScenarioSpec, revision = 1): HostDocument[] {
  const vni = new Map(s.vpcs.map((v) => [v.id, v.vni]));
  const instances = s.instances.map((i) => ({ id: i.id, vpc_id: i.vpc, subnet_id: i.subnet, private_ip: i.ip, mac: macOf(i.ip, vni.get(i.vpc)!), host_id: i.host }));
  const bindings = s.instances.flatMap((i) => i.groups.map((sg_id, position) => ({ instance_id: i.id, sg_id, position })));
  return Object.entries(s.hosts).map(([id, underlay]) =>
    compileHost({
      host: { id, underlay },
      revision,
      underlays: s.hosts,
      vpcs: s.vpcs,
      instances,
      subnets: Object.entries(s.subnets).map(([sid, cidr]) => ({ id: sid, cidr })),
      bindings,
      policies: policyRows(s.groups),
    }),
  );
}

const ACCEPT_ALL: PolicySpec = { protocol: 'ALL', cidr: '0.0.0.0/0', action: 'ACCEPT' };

/**
 * The region most tests use. vpc-a 10.0.0.0/16 over three hosts; vpc-b reuses
 * 10.0.1.0/24 (b1 has a2's address, b2 has a1's).
 *
 *   a1 10.0.1.5  h1  [sg-web00000, sg-base0000]     a4 10.0.2.8   h2  []
 *   a2 10.0.1.6  h1  [sg-db000000]               a5 10.0.1.9   —   [sg-web00000] (not placed)
 *   a3 10.0.2.7  h2  [sg-web00000, sg-base0000]     a6 10.0.2.10  h3  [sg-inonly00]
 *   b1 10.0.1.6  h2  [sg-open0000]             b2 10.0.1.5   h1  [sg-open0000]
 */
export const baseScenario = (): ScenarioSpec => ({
  hosts: { h1: '100.64.0.11', h2: '100.64.0.12', h3: '100.64.0.13' },
  vpcs: [
    { id: 'vpc-aaaaaaaa', vni: 100 },
    { id: 'vpc-bbbbbbbb', vni: 101 },
  ],
  subnets: { 'subnet-a1': '10.0.1.0/24', 'subnet-a2': '10.0.2.0/24', 'subnet-b1': '10.0.1.0/24' },
  instances: [
    { id: 'ins-a1', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a1', ip: '10.0.1.5', host: 'h1', groups: ['sg-web00000', 'sg-base0000'] },
    { id: 'ins-a2', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a1', ip: '10.0.1.6', host: 'h1', groups: ['sg-db000000'] },
    { id: 'ins-a3', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a2', ip: '10.0.2.7', host: 'h2', groups: ['sg-web00000', 'sg-base0000'] },
    { id: 'ins-a4', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a2', ip: '10.0.2.8', host: 'h2', groups: [] },
    { id: 'ins-a5', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a1', ip: '10.0.1.9', host: null, groups: ['sg-web00000'] },
    { id: 'ins-a6', vpc: 'vpc-aaaaaaaa', subnet: 'subnet-a2', ip: '10.0.2.10', host: 'h3', groups: ['sg-inonly00'] },
    { id: 'ins-b1', vpc: 'vpc-bbbbbbbb', subnet: 'subnet-b1', ip: '10.0.1.6', host: 'h2', groups: ['sg-open0000'] },
    { id: 'ins-b2', vpc: 'vpc-bbbbbbbb', subnet: 'subnet-b1', ip: '10.0.1.5', host: 'h1', groups: ['sg-open0000'] },
  ],
  groups: {
    'sg-base0000': { egress: [ACCEPT_ALL] },
    'sg-web00000': {
      ingress: [
        { protocol: 'TCP', port: '22', sg: 'sg-db000000', action: 'DROP' },
        { protocol: 'TCP', port: '80,443', cidr: '0.0.0.0/0', action: 'ACCEPT' },
        { protocol: 'TCP', port: '8000-8010', cidr: '10.0.0.0/16', action: 'ACCEPT' },
        { protocol: 'ICMP', cidr: '10.0.1.0/24', action: 'ACCEPT' },
        { protocol: 'ICMPV6', ipv6: '::/0', action: 'ACCEPT' },
      ],
      egress: [
        { protocol: 'UDP', port: '53', cidr: '10.0.2.0/24', action: 'ACCEPT' },
        { protocol: 'TCP', port: '25', cidr: '0.0.0.0/0', action: 'DROP' },
      ],
    },
    'sg-db000000': {
      ingress: [
        { protocol: 'TCP', port: '5432', sg: 'sg-web00000', action: 'ACCEPT' },
        { protocol: 'TCP', port: '22', cidr: '10.0.0.0/16', action: 'ACCEPT' },
      ],
      egress: [
        { protocol: 'TCP', port: '22', cidr: '10.0.1.5', action: 'ACCEPT' },
        { protocol: 'ALL', sg: 'sg-web00000', action: 'ACCEPT' },
      ],
    },
    'sg-inonly00': { ingress: [{ protocol: 'TCP', port: '80', cidr: '0.0.0.0/0', action: 'ACCEPT' }] },
    'sg-open0000': { ingress: [ACCEPT_ALL], egress: [ACCEPT_ALL] },
  },
});
