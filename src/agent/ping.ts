/**
 * What `ping -q` (iputils) says at the end of a run, as figures: echoes sent
 * and answered, mean round trip. Pure.
 */
export interface PingFigures {
  sent: number;
  received: number;
  /** Mean round trip of the answered echoes (ms); absent when none was answered. */
  rttMs?: number;
}

/**
 * `5 packets transmitted, 4 received, +1 errors, 20% packet loss, time 812ms`
 * `rtt min/avg/max/mdev = 0.035/0.050/0.071/0.012 ms`. A ping that could not
 * send at all (no route: `connect: Network is unreachable`) prints no summary:
 * undefined, and the caller counts every echo lost.
 */
export function parsePing(output: string): PingFigures | undefined {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  if (!m) return undefined;
  const figures: PingFigures = { sent: Number(m[1]), received: Number(m[2]) };
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  if (rtt && figures.received > 0) figures.rttMs = Number(rtt[1]);
  return figures;
}

/** Loss as Tencent's PacketLossRate: a percentage, 0–100 (nothing sent: everything lost). */
export const lossPercent = (f: Pick<PingFigures, 'sent' | 'received'>) => (f.sent > 0 ? Math.round((100 * (f.sent - Math.min(f.received, f.sent))) / f.sent) : 100);
