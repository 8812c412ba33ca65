/**
 * weft trace | reach | what-if: the packet tracer from the command line,
 * through the controller's Weft actions TraceVpcFlow, DescribeVpcReachability
 * and PreviewSecurityGroupPolicyChange (docs/trace.md); a trace to a load
 * balancer's VIP names the LB node, the listener, the Maglev slot and the
 * backend. Text by default,
 * the API's JSON with --json. With --applied, trace and reach interpret what
 * the sim hosts of a region in a box have applied (DATA_DIR/sim) instead of
 * what the controller wants: the sim data plane's own state.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { call, type ClientConfig } from './client.js';
import { UsageError } from './args.js';
import { pascal } from '../api/vpc/trace.js';
import { readSimState } from '../dataplane/sim/driver.js';
import { TraceError, type L4 } from '../trace/model.js';
import { reachability } from '../trace/reach.js';
import { renderMatrix, renderTrace } from '../trace/render.js';
import { trace } from '../trace/trace.js';
import { buildWorld, type World } from '../trace/world.js';
import { paths } from '../region/layout.js';

interface Common {
  dataDir?: string;
  endpoint?: string;
  region?: string;
  json?: boolean;
}

/** Credentials as the API client commands take them: --data-dir's credentials.json, else the environment. */
function config(o: Common): ClientConfig {
  const f = o.dataDir ? join(o.dataDir, 'credentials.json') : undefined;
  if (f && !existsSync(f)) throw new UsageError(`${f} not found: is a controller running with --data-dir ${o.dataDir}?`);
  const file = f ? (JSON.parse(readFileSync(f, 'utf8')) as { SecretId: string; SecretKey: string; Endpoint?: string; Region?: string }) : undefined;
  const env = process.env;
  const c = {
    endpoint: o.endpoint ?? file?.Endpoint ?? env.WEFT_ENDPOINT ?? '127.0.0.1:9080',
    secretId: file?.SecretId ?? env.WEFT_SECRET_ID ?? '',
    secretKey: file?.SecretKey ?? env.WEFT_SECRET_KEY ?? '',
    region: o.region ?? file?.Region ?? env.WEFT_REGION ?? 'local',
  };
  if (!c.secretId || !c.secretKey) throw new UsageError('no credentials: set WEFT_SECRET_ID and WEFT_SECRET_KEY, or pass --data-dir DIR');
  return c;
}

/** Calls a vpc action and prints its Text (or, with --json, the response without it). Exit 1 on an API error. */
async function run(o: Common, action: string, params: Record<string, unknown>) {
  const c = config(o);
  let res;
  try {
    res = await call(c, 'vpc', action, params);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Error(`cannot call ${c.endpoint}: ${cause ?? (e as Error).message}`);
  }
  const r = res.Response;
  if (r.Error) {
    console.log(JSON.stringify(r, null, 2));
    process.exitCode = 1;
    return;
  }
  if (o.json) {
    const { Text: _text, ...data } = r;
    console.log(JSON.stringify(data, null, 2));
  } else process.stdout.write(String(r.Text ?? ''));
}

/** The world of what the sim hosts applied: every host's document as its agent last wrote it. */
function appliedWorld(o: Common): World {
  if (!o.dataDir) throw new UsageError("--applied needs --data-dir: it reads the sim hosts' state there");
  const dir = paths(o.dataDir).sim;
  const documents = readSimState(dir);
  if (!documents.length) throw new UsageError(`no sim host state in ${dir}: --applied reads a region started with weft up --dataplane sim`);
  return buildWorld(documents);
}

/** Runs the pure tracer locally and prints like `run` does; a query it cannot answer exits 1 with its reason. */
function local<T extends object>(o: Common, f: () => T, text: (r: T) => string) {
  let r: T;
  try {
    r = f();
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    console.error(`${e.code}: ${e.message}`);
    process.exitCode = 1;
    return;
  }
  if (o.json) console.log(JSON.stringify(pascal(r), null, 2));
  else process.stdout.write(text(r));
}

const portNumber = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a port 1-65535, got \`${v}\``);
  return n;
};
const protocol = (v: string) => {
  if (!['tcp', 'udp', 'icmp'].includes(v.toLowerCase())) throw new InvalidArgumentError(`expected tcp, udp or icmp, got \`${v}\``);
  return v.toUpperCase();
};

function common(cmd: Command) {
  return cmd
    .option('--data-dir <dir>', "credentials from the controller's data dir")
    .option('--endpoint <host:port>', 'API endpoint (default: the data dir, WEFT_ENDPOINT or 127.0.0.1:9080)')
    .option('--region <name>')
    .option('--json', 'print the API response as JSON');
}

export function addTraceCommands(program: Command) {
  common(
    program
      .command('trace')
      .description("a packet's path hop by hop: source port, security groups, route, tunnel, gateways, load balancers (the LB node, listener, Maglev slot and backend), destination — delivered, forwarded to the internet or dropped, and why")
      .requiredOption('--from <instance|ip>', "source instance (ins-…), or an internet address (then --to is a public address: an EIP, a NAT gateway's EIP, a public load balancer's VIP, or an instance by its EIP)")
      .requiredOption('--to <instance|ip>', "destination instance or IPv4 address (looked up in the source VPC, a load balancer's VIP included; outside it, the internet through the gateways)")
      .option('--proto <tcp|udp|icmp>', 'protocol', protocol, 'tcp')
      .option('--port <n>', 'destination port (tcp/udp)', portNumber)
      .option('--source-port <n>', 'source port (tcp/udp, default 49152)', portNumber)
      .option('--source-ip <ip>', 'source address the instance puts on the packet (anti-spoofing)')
      .option('--reply', 'also trace the reply of the flow')
      .option('--applied', 'trace what the sim hosts have applied (weft up --dataplane sim), not what the controller wants'),
  ).action(async (o: Common & { from: string; to: string; proto: string; port?: number; sourcePort?: number; sourceIp?: string; reply?: boolean; applied?: boolean }) => {
    o.proto = o.proto.toUpperCase();
    if (o.proto !== 'ICMP' && o.port === undefined) throw new UsageError(`--port is required for ${o.proto.toLowerCase()}`);
    if (o.applied) {
      const q = { from: o.from, to: o.to, protocol: o.proto.toLowerCase() as L4, port: o.port, sourcePort: o.sourcePort, sourceIp: o.sourceIp, reply: o.reply };
      return local(o, () => trace(appliedWorld(o), q), renderTrace);
    }
    const dest = /^ins-/.test(o.to) ? { DestinationInstanceId: o.to } : { DestinationIpAddress: o.to };
    // From an address, not an instance: the internet (the API's SourceIpAddress without SourceInstanceId).
    const internet = !/^ins-/.test(o.from);
    if (internet && o.sourceIp !== undefined) throw new UsageError('--source-ip is for an instance source; from the internet, --from is the address');
    await run(o, 'TraceVpcFlow', {
      ...(internet ? { SourceIpAddress: o.from } : { SourceInstanceId: o.from }),
      ...dest,
      Protocol: o.proto,
      ...(o.port !== undefined ? { Port: o.port } : {}),
      ...(o.sourcePort !== undefined ? { SourcePort: o.sourcePort } : {}),
      ...(o.sourceIp !== undefined ? { SourceIpAddress: o.sourceIp } : {}),
      ...(o.reply ? { Reply: true } : {}),
    });
  });

  common(
    program
      .command('reach')
      .description("a VPC's instance × instance reachability matrix for one protocol and port")
      .requiredOption('--vpc <vpc>', 'VPC (vpc-…)')
      .option('--proto <tcp|udp|icmp>', 'protocol', protocol, 'tcp')
      .option('--port <n>', 'destination port (tcp/udp)', portNumber)
      .option('--instances <ids>', 'only these instances, comma-separated, in this order')
      .option('--applied', 'the matrix of what the sim hosts have applied (weft up --dataplane sim)'),
  ).action(async (o: Common & { vpc: string; proto: string; port?: number; instances?: string; applied?: boolean }) => {
    o.proto = o.proto.toUpperCase();
    if (o.proto !== 'ICMP' && o.port === undefined) throw new UsageError(`--port is required for ${o.proto.toLowerCase()}`);
    if (o.applied) {
      const instanceIds = o.instances?.split(',').map((s) => s.trim()).filter(Boolean);
      return local(o, () => reachability(appliedWorld(o), { vpcId: o.vpc, protocol: o.proto.toLowerCase() as L4, port: o.port, instanceIds }), renderMatrix);
    }
    await run(o, 'DescribeVpcReachability', {
      VpcId: o.vpc,
      Protocol: o.proto,
      ...(o.port !== undefined ? { Port: o.port } : {}),
      ...(o.instances ? { InstanceIds: o.instances.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    });
  });

  common(
    program
      .command('what-if')
      .description('the flows a security group policy change would turn, before it is applied')
      .requiredOption('--action <name>', 'CreateSecurityGroupPolicies | DeleteSecurityGroupPolicies | ReplaceSecurityGroupPolicy | ReplaceSecurityGroupPolicies | ModifySecurityGroupPolicies')
      .requiredOption('--body <json|@file>', "the action's request body, as JSON or @path to a file holding it")
      .option('--probe <proto:port...>', 'flows to check besides the ports the rules mention (default tcp:22)'),
  ).action(async (o: Common & { action: string; body: string; probe?: string[] }) => {
    let body: unknown;
    try {
      body = JSON.parse(o.body.startsWith('@') ? readFileSync(o.body.slice(1), 'utf8') : o.body);
    } catch (e) {
      throw new UsageError(`--body: ${(e as Error).message}`);
    }
    const probes = o.probe?.map((p) => {
      const m = /^(tcp|udp|icmp)(?::(\d+))?$/i.exec(p.trim());
      if (!m || (m[1]!.toLowerCase() !== 'icmp') !== (m[2] !== undefined)) throw new UsageError(`--probe \`${p}\`: expected tcp:PORT, udp:PORT or icmp`);
      return { Protocol: m[1]!.toUpperCase(), ...(m[2] ? { Port: portNumber(m[2]) } : {}) };
    });
    await run(o, 'PreviewSecurityGroupPolicyChange', { Action: o.action, Request: body, ...(probes ? { Probes: probes } : {}) });
  });
}
