/**
 * Controller failover in a region in a box (`--only replicas`, PostgreSQL, no
 * root: the sim data plane): `weft up --controllers 2` with H hosts, each
 * agent its own process, one VPC with an instance on every host and one
 * security group bound to all of them. A policy added to that group reaches
 * every host; the figure is the time from the API's answer until every host's
 * agent has applied (and reported) a document holding it:
 *
 * - steady: both replicas up (the baseline, side by side);
 * - failover: the replica the agents poll is killed (SIGKILL, `weft node
 *   fail`) just before the change is made through the other one — the time
 *   includes every agent noticing, moving to the other replica over TLS and
 *   resuming the document it holds (a delta for the change, nothing else).
 *
 * Rounds alternate the replica that dies (recovered before the next round).
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { openStore, type Store } from '../src/store/store.js';
import type { BenchModule } from './lib/module.js';
import { freshPostgres, onCleanup, postgresReachable, tempDataDir, weft, weftOrThrow, type Credentials } from './lib/server.js';
import { fmt, median, round, table } from './lib/stats.js';

interface Replica {
  name: string;
  endpoint: string;
}

async function until(what: string, f: () => Promise<boolean>, ms = 120_000) {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

export const replicasBench: BenchModule = {
  name: 'replicas',
  description: 'controller failover in a box with two replicas on PostgreSQL: a change reaching every host with both up vs just after the polled replica is killed',
  async run(o) {
    const why = await postgresReachable(o.postgresBase);
    if (why) return { report: `skipped: PostgreSQL at ${o.postgresBase} is not reachable (${why})`, json: { skipped: why } };
    const hosts = o.quick ? 6 : 20;
    const rounds = o.quick ? 2 : Math.max(3, o.rounds);
    const db = await freshPostgres(o.postgresBase, 'replicas');
    const dataDir = tempDataDir('replicas');
    const down = onCleanup(async () => void (await weft(['down', '--data-dir', dataDir])));
    await weftOrThrow(['up', '--detach', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', String(hosts), '--gateways', '0', '--lb-nodes', '0', '--dataplane', 'sim', '--database', db.url, '--controllers', '2']);
    const store: Store = await openStore(db.url);
    try {
      const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
      const replicas = (JSON.parse(await weftOrThrow(['node', 'list', '--data-dir', dataDir])) as { name: string; role: string; endpoint?: string }[])
        .filter((n) => n.role === 'controller')
        .map((n) => ({ name: n.name, endpoint: n.endpoint! }));
      const client = (r: Replica) => {
        const opts = { credential: { secretId: creds.SecretId, secretKey: creds.SecretKey }, region: 'local', profile: { httpProfile: { endpoint: r.endpoint, protocol: 'http://', reqTimeout: 60 } } };
        return { vpc: new VpcClient(opts), cvm: new CvmClient(opts) };
      };
      const first = client(replicas[0]!);
      const vpcId = (await first.vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
      const subnets = await Promise.all(
        ['local-1', 'local-2'].map(async (zone, i) => (await first.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: zone, CidrBlock: `10.0.${i}.0/24`, Zone: zone })).Subnet!.SubnetId!),
      );
      const sg = (await first.vpc.CreateSecurityGroup({ GroupName: 'all', GroupDescription: 'bound on every host' })).SecurityGroup!.SecurityGroupId!;
      // One instance per host: the scheduler spreads a zone's instances over its hosts.
      for (const [i, zone] of ['local-1', 'local-2'].entries())
        await first.cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnets[i]! }, SecurityGroupIds: [sg], InstanceCount: Math.ceil(hosts / 2) });
      await until('every host holding an instance', async () => {
        const placed = await store.db.selectFrom('instances').select('host_id').where('vpc_id', '=', vpcId).where('host_id', 'is not', null).execute();
        return new Set(placed.map((p) => p.host_id)).size === hosts;
      });
      const allApplied = (revision: number) => async () =>
        ((await store.db.selectFrom('hosts').select('id').where('applied_revision', '<', revision).execute()).length === 0);
      await until('every host RUNNING its document', allApplied(await store.revision()));

      let port = 1000;
      /** Adds a policy through replica `via`; answers ms until every host applied it. */
      const change = async (via: Replica) => {
        await client(via).vpc.CreateSecurityGroupPolicies({ SecurityGroupId: sg, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: String(port++), CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] } });
        const t0 = performance.now();
        await until('the change on every host', allApplied(await store.revision()));
        return performance.now() - t0;
      };

      const steady: number[] = [];
      const failover: number[] = [];
      for (let i = 0; i < rounds; i++) {
        steady.push(await change(replicas[i % 2]!));
        // Agents poll the first replica of their list that answers: ctl1, or ctl2 while ctl1 is down.
        const victim = replicas[i % 2]!;
        const survivor = replicas[(i + 1) % 2]!;
        process.stderr.write(`replicas: round ${i + 1}: killing ${victim.name}\n`);
        await weftOrThrow(['node', 'fail', '--data-dir', dataDir, victim.name]);
        failover.push(await change(survivor));
        await weftOrThrow(['node', 'recover', '--data-dir', dataDir, victim.name]);
      }
      const figures = {
        hosts,
        rounds,
        steadyMs: { median: round(median(steady)), runs: steady.map(round) },
        failoverMs: { median: round(median(failover)), runs: failover.map(round) },
        ratio: round(median(failover) / median(steady)),
      };
      const report = table(
        ['hosts', 'change on every host, both replicas up', 'just after the polled replica is killed', 'ratio'],
        [[String(hosts), `${fmt(figures.steadyMs.median, ' ms')} (${figures.steadyMs.runs.join(', ')})`, `${fmt(figures.failoverMs.median, ' ms')} (${figures.failoverMs.runs.join(', ')})`, String(figures.ratio)]],
      );
      return { report, json: figures };
    } finally {
      await store.close();
      down();
      await weft(['down', '--data-dir', dataDir]);
      await db.drop();
    }
  },
};
