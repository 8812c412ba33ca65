/**
 * What a gateway node's agent tells the controller every few seconds about
 * the EIPs whose limit is split over the nodes (POST …/hosts/{id}/limits),
 * and the shares it gets back (docs/public-network.md, "EIP bandwidth limits").
 */
export interface LimitUsage {
  publicIp: string;
  /** The EIP's whole limit, bit/s (from the node's document). */
  limitBps: number;
  /** Bytes the node sent from the EIP since its previous report. */
  bytes: number;
  /** Whether the node held packets back at its share in that time (it could have sent more). */
  saturated: boolean;
}

export interface LimitReport {
  /** How many gateway nodes the cluster has (the node's document): those that have not reported keep an even share. */
  nodes: number;
  eips: LimitUsage[];
}

/** This node's share of each reported EIP's limit, bit/s. */
export interface LimitShares {
  shares: Record<string, number>;
}
