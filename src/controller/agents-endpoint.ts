/**
 * What the controller runs for the data plane: the distribution endpoint on
 * the data dir's Unix socket (and optionally TLS over TCP) and the scheduler. The
 * distribution itself (its document cache) is the controller's, shared with
 * the API's packet tracer; the controller closes it.
 */
import { existsSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import { tokenHash, type Distribution } from './distribution.js';
import { startScheduler } from './scheduler.js';
import { splitHostPort } from './listen.js';

/** `listen`: also serve agents over TLS on HOST:PORT, with `tls` (PEM: agent-tls.ts). */
export async function startAgentsEndpoint(store: Store, dist: Distribution, o: { socket: string; listen?: string; tls?: { cert: string | Buffer; key: string | Buffer } }) {
  const servers: (Server | HttpsServer)[] = [];
  /** HOST:PORT agents reach over TLS (the port chosen when `listen` asked for 0). */
  let address: string | undefined;
  if (existsSync(o.socket)) rmSync(o.socket); // left by a controller that did not stop cleanly
  const unix = dist.serve();
  // A change that spans many hosts answers all their long-polls at once; agents that then reconnect together overflow the default backlog (511).
  await new Promise<void>((ok, fail) => unix.once('error', fail).listen({ path: o.socket, backlog: 4096 }, ok));
  servers.push(unix);
  if (o.listen) {
    const [host, port] = splitHostPort(o.listen);
    if (!o.tls) throw new Error('agents over TCP need a TLS certificate (agent-tls.ts)');
    const tcp = dist.serve(o.tls);
    await new Promise<void>((ok, fail) => tcp.once('error', fail).listen({ port, host, backlog: 4096 }, ok));
    servers.push(tcp);
    const a = tcp.address() as AddressInfo;
    address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }
  const scheduler = startScheduler(store);
  return {
    distribution: dist,
    scheduler,
    address,
    async close() {
      scheduler.stop();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((ok) => {
              s.close(() => ok());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** Registers (or re-keys) a host; returns the agent's new token. */
export async function registerHost(store: Store, h: { id: string; zone: string; underlay: string; role?: 'host' | 'gateway' | 'lb' }): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  const role = h.role ?? 'host';
  await store.write(async (w) => {
    const old = await w.tx.selectFrom('hosts').select('id').where('id', '=', h.id).executeTakeFirst();
    if (old) await w.tx.updateTable('hosts').set({ zone: h.zone, underlay: h.underlay, role, token_hash: tokenHash(token) }).where('id', '=', h.id).execute();
    else
      await w.tx
        .insertInto('hosts')
        .values({ id: h.id, zone: h.zone, underlay: h.underlay, role, token_hash: tokenHash(token), applied_revision: 0, reported_at: null, report: null, created_at: w.now })
        .execute();
    w.changed('', 'host', h.id, old ? 'update' : 'create');
  });
  return token;
}
