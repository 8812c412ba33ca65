/**
 * Flow logs across the planes (docs/operations.md "Flow logs"): what a host
 * document tells an agent to capture, and the records the agent reports
 * (POST /v1/hosts/{id}/flow-logs).
 */

/** A flow log as a host captures it: one per enabled flow log that covers a port of the VPC on the host. */
export interface FlowLogCapture {
  flowLogId: string;
  /** The owner's account (the records' account-id). */
  accountId: string;
  /** ACCEPT: flows the security groups and ACLs let through; REJECT: packets they drop; ALL: both. */
  trafficType: 'ACCEPT' | 'REJECT' | 'ALL';
  /** The covered ports on this host: their private address and ENI ID (the records' interface-id), sorted by address. */
  interfaces: { ip: string; eniId: string }[];
}

/** One record, in Tencent's flow-log fields: one direction of a 5-tuple in one capture window. */
export interface FlowLogRecord {
  version: 2;
  'account-id': string;
  'interface-id': string;
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  /** IANA protocol number (6 TCP, 17 UDP, 1 ICMP). */
  protocol: number;
  packets: number;
  /** IP bytes (headers included), as conntrack and the kernel count them. */
  bytes: number;
  /** The capture window, Unix seconds. */
  start: number;
  end: number;
  action: 'ACCEPT' | 'REJECT';
  /** OK: recorded; SKIPDATA: some of the window's data was lost (a capture process restarted or fell behind). */
  'log-status': 'OK' | 'NODATA' | 'SKIPDATA';
}

/** What an agent reports: the records of one or more windows, each with the flow log it belongs to. */
export interface FlowLogReport {
  records: (FlowLogRecord & { flowLogId: string })[];
}

/** Tencent's flow-log fields, in the order a raw record lists them. */
export const FLOW_LOG_FIELDS = ['version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status'] as const satisfies readonly (keyof FlowLogRecord)[];
