/**
 * Per-account quotas. Defaults follow Tencent Cloud's documented defaults; a
 * private cloud raises them per account (`weft account quota`).
 */
export const DEFAULT_QUOTAS = {
  /** VPCs per region. */
  vpc: 20,
  /** Subnets per VPC. */
  subnetPerVpc: 100,
  /** Security groups per region. */
  securityGroup: 50,
  /** Policies per security group, per direction (ingress, egress). */
  policyPerDirection: 100,
  /** Security groups bound to one instance. */
  sgPerInstance: 5,
  /** Instances per region. */
  instance: 1000,
  /** Route tables per VPC, its main table included. */
  routeTablePerVpc: 10,
  /** User routes per route table (the LOCAL route does not count). */
  routePerTable: 50,
  /** Network ACLs per VPC (Tencent's VPC limits page: 50). */
  networkAclPerVpc: 50,
  /** Entries per network ACL, per direction (Tencent: 20 inbound, 20 outbound). */
  aclEntryPerDirection: 20,
  /** Peering connections per VPC, pending or active (Tencent: 10). */
  peeringPerVpc: 10,
  /** Elastic IPs per account in the region (Tencent: 20); twice as many may be allocated per day (UTC). */
  eipPerAccount: 20,
  /** NAT gateways per VPC (Tencent's NAT gateway limits: 3). */
  natGatewayPerVpc: 3,
};
export type Quotas = typeof DEFAULT_QUOTAS;
export type QuotaName = keyof Quotas;

export const isQuotaName = (s: string): s is QuotaName => s in DEFAULT_QUOTAS;

export function withOverrides(json: string | null): Quotas {
  const o = json ? (JSON.parse(json) as Partial<Quotas>) : {};
  return { ...DEFAULT_QUOTAS, ...o };
}
