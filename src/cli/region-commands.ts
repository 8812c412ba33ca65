/** weft up | down | agent | exec: the region in a box and its agents. */
import { logger } from '../core/log.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { runAgent, type Driver } from '../agent/agent.js';
import { probeProcesses, simHealth } from '../agent/health-checks.js';
import { flowLogCapture, windowMsFromEnv } from '../agent/flow-logs.js';
import { sendFlowLogs } from '../agent/controller-link.js';
import type { LbHealthReport } from '../contract/agent-report.js';
import { LinuxDriver } from '../dataplane/linux/driver.js';
import { linuxCounterReader } from '../dataplane/linux/instance-counters.js';
import { checkTools } from '../dataplane/linux/preflight.js';
import { SimDriver } from '../dataplane/sim/driver.js';
import { internetClientNs } from '../dataplane/linux/edge.js';
import { hostNs, routerNs } from '../dataplane/linux/names.js';
import { startProbes } from '../agent/probes.js';
import { EDGE, INTERNET, instanceNamespace, paths, readLayout, readToken } from '../region/layout.js';
import { listNodes, setNode } from '../region/nodes.js';
import { UsageError } from './args.js';
import { call, type ApiResult } from './client.js';
import type { CredentialsFile } from '../controller/controller.js';
import { alreadyRunning, canUseLinux, down, lockHolder, up, type Dataplane } from '../region/up.js';

const dataplaneOf = (v: string | undefined): Dataplane => {
  const d = v ?? (canUseLinux() ? 'linux' : 'sim');
  if (d !== 'linux' && d !== 'sim') throw new Error(`--dataplane must be linux or sim, not \`${d}\``);
  return d;
};

export function addRegionCommands(program: Command) {
  program
    .command('up')
    .description('run a whole region on this machine: controller, fabric, hosts and their agents (network namespaces; root)')
    .requiredOption('--data-dir <dir>')
    .option('--hosts <n>', 'compute hosts', (v) => Number(v), 3)
    .option('--gateways <n>', 'gateway nodes: the internet edge (default 2; none when BIRD is missing)', (v) => Number(v))
    .option('--lb-nodes <n>', 'LB nodes: the CLB cluster (default 2; none when BIRD is missing)', (v) => Number(v))
    .option('--listen <host:port>', 'API endpoint', '127.0.0.1:9080')
    .option('--dataplane <linux|sim>', 'linux (root) or sim; default linux when root')
    .option('--database <url>', 'postgres://… (default: SQLite in the data dir)')
    .option('--rate-limit <n>', 'API requests per second per account (0: unlimited)', (v) => Number(v), 1000)
    .option('--controllers <n>', 'controller replicas (more than 1 needs --database postgres://…); see weft node list', (v) => Number(v), 1)
    .option('--detach', 'run in the background; stop it with weft down')
    .addOption(new Option('--detached', 'this is the background process of weft up --detach').hideHelp())
    .action(async (o: { dataDir: string; hosts: number; gateways?: number; lbNodes?: number; listen: string; dataplane?: string; database?: string; rateLimit: number; controllers: number; detach?: boolean; detached?: boolean }) => {
      const dataplane = dataplaneOf(o.dataplane);
      if (o.detach) return detach(o.dataDir);
      if (dataplane === 'sim' && !o.dataplane) console.log('not root: running the sim data plane (no namespaces); run as root for the linux data plane');
      const region = await up({ ...o, dataplane });
      const c = region.controller;
      console.log(`weft region ${c.region.name} is up: ${region.layout.hosts.length} hosts (${dataplane} data plane), namespaces ${region.layout.prefix}-*`);
      for (const h of region.layout.hosts) console.log(`  host ${h.id}  zone ${h.zone}  underlay ${h.underlay}`);
      for (const g of region.layout.gateways ?? []) console.log(`  gateway ${g.id}  underlay ${g.underlay}  internet ${g.internet}`);
      for (const g of region.layout.lbNodes ?? []) console.log(`  lb node ${g.id}  underlay ${g.underlay}  internet ${g.internet}`);
      if (region.layout.gateways?.length && dataplane === 'linux') console.log(`  internet     weft exec --data-dir ${o.dataDir} internet -- CMD  (client ${EDGE.client})`);
      console.log(`  endpoint     http://${c.endpoint}`);
      for (const r of c.replicas ?? []) console.log(`  controller ${r.name}  api ${r.endpoint}  agents ${r.agentEndpoint}  pid ${r.pid}`);
      console.log(`  credentials  ${c.credentialsFile}`);
      console.log(`  try          weft vpc DescribeVpcs --data-dir ${o.dataDir}`);
      // In the background there is no terminal to press Ctrl-C in.
      console.log(`  stop         ${o.detached ? '' : 'Ctrl-C here, or '}weft down --data-dir ${o.dataDir}`);
      console.log('ready');
      const stop = async () => {
        console.log('stopping: removing the region');
        await region.close();
        process.exit(0);
      };
      process.once('SIGINT', stop).once('SIGTERM', stop);
    });

  program
    .command('down')
    .description('stop a region started by weft up and remove every namespace, link and rule it made; exit 1 when no region ran in the data dir')
    .requiredOption('--data-dir <dir>')
    .action(async (o: { dataDir: string }) => {
      for (const line of await down(o.dataDir)) console.log(line);
    });

  program
    .command('agent')
    .description("run one host's agent (weft up starts them; use this to restart one)")
    .requiredOption('--data-dir <dir>')
    .requiredOption('--host-id <id>')
    .option('--dataplane <linux|sim>')
    .option('--controller <endpoints>', 'controller replicas, comma-separated: HOST:PORT (TLS), unix:/path or http://HOST:PORT (default: the data dir\'s socket)')
    .option('--ca <file>', 'PEM CA that signs the controllers\' TLS certificates (a controller\'s DATA_DIR/agent-tls/ca.pem)')
    .action(async (o: { dataDir: string; hostId: string; dataplane?: string; controller?: string; ca?: string }) => {
      const layout = readLayout(o.dataDir);
      if (!layout || ![...layout.hosts, ...(layout.gateways ?? []), ...(layout.lbNodes ?? [])].some((h) => h.id === o.hostId))
        throw new Error(`no host or gateway ${o.hostId} in ${paths(o.dataDir).layout}; run weft up first`);
      const linux = dataplaneOf(o.dataplane) === 'linux';
      if (linux) checkTools();
      const driver: Driver = linux ? new LinuxDriver({ prefix: layout.prefix, hostName: o.hostId }) : new SimDriver(paths(o.dataDir).simState(o.hostId));
      const pidFile = join(o.dataDir, 'agents', `${o.hostId}.pid`);
      writeFileSync(pidFile, String(process.pid));
      const link = {
        controller: o.controller ?? `unix:${paths(o.dataDir).socket}`,
        hostId: o.hostId,
        token: readToken(o.dataDir, o.hostId),
        ...(o.ca ? { ca: readFileSync(o.ca) } : {}),
      };
      const agentLog = logger('agent', { host: o.hostId });
      const say = (m: string) => agentLog.info(m);
      const agent = runAgent({
        ...link,
        driver,
        // The audit period (docs/reconcile.md); WEFT_AGENT_RESYNC_MS is its former name.
        auditMs: Number(process.env.WEFT_AGENT_AUDIT_MS) || undefined,
        // NetDetect and underlay probes (agent/probes.ts): from the router namespaces and the host's namespace.
        ...(linux
          ? {
              probes: (document: Parameters<typeof startProbes>[0]['document']) =>
                startProbes({
                  ...link,
                  document,
                  inRouter: (vpcId) => ['ip', 'netns', 'exec', routerNs(layout.prefix, o.hostId, vpcId)],
                  inUnderlay: ['ip', 'netns', 'exec', hostNs(layout.prefix, o.hostId)],
                  periodMs: Number(process.env.WEFT_PROBE_PERIOD_MS) || undefined,
                  log: say,
                }),
              flowLogs: flowLogCapture({
                routerNs: (vpcId) => routerNs(layout.prefix, o.hostId, vpcId),
                workDir: join(o.dataDir, 'flow-logs', o.hostId),
                windowMs: windowMsFromEnv(),
                send: (r) => sendFlowLogs(link, r),
                log: say,
              }),
            }
          : {}),
        resyncMs: Number(process.env.WEFT_AGENT_RESYNC_MS) || undefined,
        ...(linux ? { counters: linuxCounterReader(layout.prefix, o.hostId), counterPeriodMs: Number(process.env.WEFT_COUNTER_PERIOD_MS) || undefined } : {}),
        // LB nodes probe their targets (on the sim data plane, every target is alive).
        ...((layout.lbNodes ?? []).some((n) => n.id === o.hostId)
          ? {
              health: (report: (r: LbHealthReport) => void) =>
                linux ? probeProcesses((vpcId) => routerNs(layout.prefix, o.hostId, vpcId), report, say) : simHealth(report),
            }
          : {}),
      });
      const stop = async () => {
        await agent.stop();
        rmSync(pidFile, { force: true });
        process.exit(0);
      };
      process.once('SIGINT', stop).once('SIGTERM', stop);
      await agent.done;
    });

  program
    .command('exec')
    .description(`run a command inside an instance, or on the internet client (${EDGE.client}): weft exec --data-dir DIR ins-xxxxxxxx|${INTERNET} -- CMD …`)
    .requiredOption('--data-dir <dir>')
    .argument('<instance>')
    .argument('<command...>')
    .action(async (instance: string, command: string[], o: { dataDir: string }) => {
      const layout = readLayout(o.dataDir);
      if (!layout) throw new Error(`no region in ${o.dataDir}; run weft up first`);
      if (instance === INTERNET && !layout.gateways?.length && !layout.lbNodes?.length)
        throw new Error(`this region has no internet: it was started with no gateways or LB nodes (weft up --gateways N --lb-nodes N)`);
      const ns = instance === INTERNET ? internetClientNs(layout.prefix) : instanceNamespace(layout.prefix, instance);
      if (instance !== INTERNET) await checkInstance(o.dataDir, instance, ns);
      const child = spawn('ip', ['netns', 'exec', ns, ...command], { stdio: 'inherit' });
      child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
    });

  const node = program.command('node').description("the region's nodes (hosts, gateways) and failure drills");
  node
    .command('list')
    .description('the nodes as a JSON array: {"name","role","zone"?,"state"}')
    .requiredOption('--data-dir <dir>')
    .action(async (o: { dataDir: string }) => console.log(JSON.stringify(await listNodes(o.dataDir))));
  for (const [verb, up, what] of [
    ['fail', false, 'take a node off the fabric (its ports down; what runs inside it keeps running)'],
    ['recover', true, 'bring a failed node back onto the fabric'],
  ] as const)
    node
      .command(verb)
      .description(what)
      .requiredOption('--data-dir <dir>')
      .argument('<name>')
      .action(async (name: string, o: { dataDir: string }) => console.log(JSON.stringify(await setNode(o.dataDir, name, up))));
}

/**
 * `weft exec` runs only in the instances of the data dir's account, and only
 * where they have a namespace: say which instance is wrong and why rather than
 * leave it to `ip netns exec`.
 */
async function checkInstance(dataDir: string, instance: string, ns: string) {
  if (!/^ins-[0-9a-z]{8}$/.test(instance)) throw new UsageError(`\`${instance}\` is neither an instance ID (ins-xxxxxxxx) nor ${INTERNET}`);
  const credFile = join(dataDir, 'credentials.json');
  if (!existsSync(credFile)) throw new Error(`cannot look up instance ${instance}: ${credFile} not found; run weft up first`);
  const c = JSON.parse(readFileSync(credFile, 'utf8')) as CredentialsFile;
  let res: ApiResult;
  try {
    res = await call({ endpoint: c.Endpoint, secretId: c.SecretId, secretKey: c.SecretKey, region: c.Region, timeoutMs: 10_000 }, 'cvm', 'DescribeInstances', { InstanceIds: [instance] });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new Error(`cannot look up instance ${instance}: the controller at ${c.Endpoint} does not answer (${cause}); is the region in ${dataDir} running?`);
  }
  const r = res.Response as ApiResult['Response'] & { InstanceSet?: { InstanceState?: string }[] };
  if (r.Error) throw new Error(`cannot look up instance ${instance}: ${r.Error.Code}: ${r.Error.Message}`);
  const found = r.InstanceSet?.[0];
  if (!found) throw new Error(`no instance ${instance} in the account of ${credFile} (unknown, deleted, or another account's)`);
  if (!existsSync(join('/run/netns', ns))) {
    const sim = /"dataplane":"sim"/.test(existsSync(join(dataDir, 'run.json')) ? readFileSync(join(dataDir, 'run.json'), 'utf8') : '');
    throw new Error(`instance ${instance} (${found.InstanceState ?? 'state unknown'}) has no namespace ${ns} on this machine${sim ? ': the sim data plane runs no instances' : ''}`);
  }
}

/** Starts `weft up` in the background and returns once it is ready. */
async function detach(dataDir: string) {
  // Say so here rather than in the background process's log.
  const holder = lockHolder(dataDir);
  if (holder !== undefined) throw alreadyRunning(dataDir, holder);
  const args = [...process.argv.slice(2).filter((a) => a !== '--detach'), '--detached'];
  const log = join(dataDir, 'logs', 'up.log');
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const out = openSync(log, 'w');
  const start = Date.now();
  const child = spawn(process.execPath, [process.argv[1]!, ...args], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  for (;;) {
    await new Promise((ok) => setTimeout(ok, 200));
    const text = readFileSync(log, 'utf8');
    if (/^ready$/m.test(text)) {
      process.stdout.write(text.replace(/^ready\n?/m, ''));
      return;
    }
    if (child.exitCode !== null || Date.now() - start > 60_000)
      throw new Error(`weft up did not start; see ${log}:\n${text.split('\n').slice(-15).join('\n')}`);
  }
}
