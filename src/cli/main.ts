#!/usr/bin/env node
/**
 * The weft command: the controller (`weft server`), accounts, and an API
 * client in the manner of tccli (`weft vpc CreateVpc --VpcName a --CidrBlock 10.0.0.0/16`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { accountByName, createAccount, setQuotas } from '../accounts/accounts.js';
import { loadMasterKey } from '../accounts/secrets.js';
import type { ActionDef, Service } from '../api/action.js';
import type { Schema } from '../api/params.js';
import { ACTIONS } from '../api/registry.js';
import { startController, type CredentialsFile } from '../controller/controller.js';
import { readRun } from '../region/controllers.js';
import { DEFAULT_PUBLIC_POOLS, parsePublicPools } from '../core/public-pools.js';
import { DEFAULT_QUOTAS, isQuotaName } from '../core/quotas.js';
import { sqlitePath } from '../controller/store-location.js';
import { openDataDirStore } from './data-dir-store.js';
import { formatCidr } from '../core/cidr.js';
import { call, type ApiResult } from './client.js';
import { notJsonError, parseActionArgs, preferStrings, UsageError } from './args.js';
import { addRegionCommands } from './region-commands.js';
import { addTraceCommands } from './trace-commands.js';
import { addStatusCommand } from './status-command.js';
import { addFlowLogCommands } from './flowlog-commands.js';

const SERVICES: Service[] = ['vpc', 'cvm', 'clb', 'monitor'];

/** A whole number option value ≥ `min`, or a usage error naming the option. */
const wholeNumber = (min: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got \`${v}\``);
  return n;
};

/** `198.51.100.0/24,203.0.113.0/24`: the public pools as the controller takes them, or a usage error saying what is wrong. */
const publicPools = (v: string) => {
  const list = v.split(',').map((x) => x.trim());
  try {
    parsePublicPools(list);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return list;
};

// Exit codes: 0 success, 1 the API (or the endpoint) answered with an error, 2 usage error.
const program = new Command('weft')
  .exitOverride()
  .description('Weft: VPCs, subnets, security groups and instances behind a Tencent Cloud API 3.0 endpoint')
  .addHelpText(
    'after',
    `\nAPI client (like tccli):\n  weft <service> <Action> [--Param value …]   nested values as JSON, e.g. --Filters '[{"Name":"vpc-name","Values":["a"]}]'\n` +
      `                                             or dotted, e.g. --Filters.0.Name vpc-name --Filters.0.Values.0 a\n` +
      `  weft <service> <Action> --help              the action's parameters\n` +
      `  credentials from --data-dir DIR (its credentials.json), else WEFT_SECRET_ID, WEFT_SECRET_KEY, WEFT_ENDPOINT, WEFT_REGION;\n` +
      `  --endpoint HOST:PORT and --region NAME override both\n` +
      `  exit status: 0 success, 1 the API answered with an error (JSON on stdout) or was unreachable, 2 usage error\n\n` +
      SERVICES.map((s) => {
        const names = ACTIONS.filter((a) => a.service === s).map((a) => a.name);
        return names.length ? `${s}:\n${names.map((n) => `  ${n}`).join('\n')}` : '';
      })
        .filter(Boolean)
        .join('\n'),
  );

interface ServerOptions {
  dataDir: string;
  listen: string;
  database?: string;
  region: string;
  zones: number;
  publicPools: string[];
  rateLimit: number;
  bodyLimit: number;
  agentListen?: string;
  agentTlsCert?: string;
  agentTlsKey?: string;
  name?: string;
}

program
  .command('server')
  .description('run the controller in the foreground')
  .requiredOption('--data-dir <dir>', 'state and credentials directory')
  .option('--listen <host:port>', 'API endpoint', '127.0.0.1:9080')
  .option('--database <url>', 'postgres://… (default: SQLite in the data dir)')
  .option('--region <name>', 'region name', 'local')
  .option('--zones <n>', 'number of zones', wholeNumber(1), 2)
  .option('--public-pools <cidrs>', 'public address pools of the region, comma-separated (EIPs come from them)', publicPools, [...DEFAULT_PUBLIC_POOLS])
  .option('--rate-limit <n>', 'API requests per second per account (0: unlimited)', wholeNumber(0), 1000)
  .option('--body-limit <bytes>', 'largest request body accepted', wholeNumber(1), 10 << 20)
  .option('--agent-listen <host:port>', 'also serve host agents over TLS (they always can over DATA_DIR/agents.sock)')
  .option('--agent-tls-cert <file>', 'PEM certificate of --agent-listen (default DATA_DIR/agent-tls/cert.pem, made with its CA on first start)')
  .option('--agent-tls-key <file>', 'PEM key of --agent-tls-cert')
  .option('--name <id>', "this replica's ID among the controllers sharing the database (default: made on first start, kept in DATA_DIR/replica-id)")
  .action(async (o: ServerOptions) => {
    const c = await startController({ ...o, replicaName: o.name });
    console.log(`weft controller serving region ${c.region.name} (${c.region.zones.map((z) => z.name).join(', ')})`);
    console.log(`  public pools ${c.region.publicPools.map(formatCidr).join(', ')}`);
    console.log(`  endpoint     http://${c.endpoint}`);
    console.log(`  store        ${c.store.engine === 'sqlite' ? sqlitePath(o.dataDir) : 'postgres'}`);
    console.log(`  credentials  ${c.credentialsFile}`);
    if (c.agentEndpoint) console.log(`  agents       ${c.agentEndpoint} (TLS${c.agentCa ? `, CA ${c.agentCa}` : ''})`);
    console.log(`  try          weft vpc DescribeVpcs --data-dir ${o.dataDir}`);
    const stop = async () => {
      await c.close();
      process.exit(0);
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
  });

const account = program.command('account').description('tenant accounts');
account
  .command('create')
  .description('create an account and print its credentials as JSON')
  .requiredOption('--data-dir <dir>')
  .requiredOption('--name <name>')
  .option('--database <url>')
  .action(async (o: { dataDir: string; name: string; database?: string }) => {
    const key = masterKey(o.dataDir);
    const store = await openDataDirStore(o.dataDir, o.database);
    try {
      const creds = await createAccount(store, key, o.name);
      const admin = readCredentials(o.dataDir);
      console.log(JSON.stringify({ ...creds, Endpoint: admin?.Endpoint, Region: admin?.Region ?? 'local' }, null, 2));
    } finally {
      await store.close();
    }
  });
account
  .command('quota')
  .description('show or raise an account quota, e.g. --set vpc=100000')
  .requiredOption('--data-dir <dir>')
  .requiredOption('--name <name>')
  .option('--database <url>')
  .option('--set <name=value...>', 'quotas to set')
  .action(async (o: { dataDir: string; name: string; database?: string; set?: string[] }) => {
    const changes = Object.fromEntries(
      (o.set ?? []).map((kv) => {
        const m = /^([A-Za-z]+)=(\d+)$/.exec(kv.trim());
        if (!m || !isQuotaName(m[1]!)) throw new UsageError(`--set \`${kv}\`: expected NAME=NUMBER with NAME one of ${Object.keys(DEFAULT_QUOTAS).join(', ')}`);
        return [m[1]!, Number(m[2])];
      }),
    );
    masterKey(o.dataDir); // the right data dir, not a typo that would get a fresh store
    const store = await openDataDirStore(o.dataDir, o.database);
    try {
      if (!Object.keys(changes).length) {
        const a = await accountByName(store, o.name);
        if (!a) throw new Error(`no account named \`${o.name}\``);
        console.log(JSON.stringify(a.quotas, null, 2));
        return;
      }
      console.log(JSON.stringify(await setQuotas(store, o.name, changes), null, 2));
    } finally {
      await store.close();
    }
  });

function masterKey(dataDir: string) {
  try {
    return loadMasterKey(dataDir, { create: false });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function readCredentials(dataDir: string): CredentialsFile | undefined {
  const f = join(dataDir, 'credentials.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CredentialsFile) : undefined;
}

function actionHelp(def: ActionDef): string {
  const shape = (def.params as Partial<{ shape: Record<string, Schema<unknown>> }>).shape ?? {};
  const width = Math.max(0, ...Object.keys(shape).map((k) => k.length));
  const lines = Object.entries(shape).map(([k, s]) => `  --${k.padEnd(width)}  ${s.describe}${s.optional ? '' : ' (required)'}`);
  return `Usage: weft ${def.service} ${def.name} [--Param value …]\n\nParameters (values that parse as JSON are JSON; --A.0.B x builds nested ones):\n${lines.join('\n') || '  (none)'}\n`;
}

/** Whether the action's parameter at `path` takes an object or a list (as far as its schema says: members of lists are not looked into). */
const structured = (def: ActionDef) => (path: readonly string[]) => {
  let s: Partial<{ shape: Record<string, Schema<unknown>> }> & Partial<Schema<unknown>> = def.params;
  for (const k of path) {
    if (!s.shape || !Object.hasOwn(s.shape, k)) return false;
    s = s.shape[k]!;
  }
  return /^(Object|Array)\b/.test(s.describe ?? '');
};

/** Edit distance (insertions, deletions, substitutions), ignoring case. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    row = next;
  }
  return row[y.length]!;
}

/** The names nearest to `name` (at most 3), if any is near enough to be what was meant: a third of its length, at least 2 edits. */
function closest(name: string, names: readonly string[]): string[] {
  const scored = names.map((n) => [n, editDistance(name, n)] as const);
  const best = Math.min(...scored.map(([, d]) => d));
  if (best > Math.max(2, Math.floor(name.length / 3))) return [];
  return scored.filter(([, d]) => d === best).map(([n]) => n).slice(0, 3);
}

/** Validates parameters as the server would; the message, or undefined if they pass. */
const problem = (def: ActionDef) => (params: Record<string, unknown>) => {
  try {
    def.params.parse(params, '');
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};

for (const service of SERVICES) {
  program
    .command(service)
    .description(`call a ${service} action: weft ${service} <Action> [--Param value …]`)
    .argument('<action>')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[params...]')
    .action(async (actionName: string, rest: string[]) => {
      const known = ACTIONS.filter((a) => a.service === service).map((a) => a.name);
      if (['--help', '-h', 'help'].includes(actionName)) {
        console.log(`Usage: weft ${service} <Action> [--Param value …]\n\n${service} actions:\n${known.map((n) => `  ${n}`).join('\n') || '  none yet'}`);
        return;
      }
      const def = ACTIONS.find((a) => a.name === actionName && a.service === service);
      if (!def) {
        const near = closest(actionName, known);
        throw new UsageError(
          `${service} has no action \`${actionName}\`; ` +
            (near.length ? `did you mean ${near.slice(0, -1).join(', ')}${near.length > 1 ? ' or ' : ''}${near.at(-1)}?` : `known: ${known.join(', ') || 'none yet'}`),
        );
      }
      const args = parseActionArgs(rest);
      if (args.help) {
        process.stdout.write(actionHelp(def));
        return;
      }
      const notJson = notJsonError(args.notJson, structured(def));
      if (notJson) throw notJson;
      // Explicit options win over the data dir's credentials file, which wins over the environment.
      const file = args.dataDir ? readCredentials(args.dataDir) : undefined;
      if (args.dataDir && !file) throw new UsageError(`${join(args.dataDir, 'credentials.json')} not found: is a controller running with --data-dir ${args.dataDir}?`);
      const env = process.env;
      const cfg = {
        endpoint: args.endpoint ?? file?.Endpoint ?? env.WEFT_ENDPOINT ?? '127.0.0.1:9080',
        secretId: file?.SecretId ?? env.WEFT_SECRET_ID ?? '',
        secretKey: file?.SecretKey ?? env.WEFT_SECRET_KEY ?? '',
        region: args.region ?? file?.Region ?? env.WEFT_REGION ?? 'local',
      };
      if (!cfg.secretId || !cfg.secretKey) throw new UsageError('no credentials: set WEFT_SECRET_ID and WEFT_SECRET_KEY, or pass --data-dir DIR');
      const params = preferStrings(args.params, args.guesses, problem(def));
      // A region in a box with controller replicas: when the endpoint refuses the connection (nothing was sent), the next replica.
      const replicas = args.dataDir && !args.endpoint ? (readRun(args.dataDir)?.controllers ?? []).map((r) => r.endpoint).filter((e) => e !== cfg.endpoint) : [];
      const callAt = async ([endpoint, ...others]: string[]): Promise<ApiResult> => {
        try {
          return await call({ ...cfg, endpoint: endpoint! }, service, actionName, params);
        } catch (e) {
          const cause = (e as { cause?: { message?: string; code?: string } }).cause;
          if (cause?.code === 'ECONNREFUSED' && others.length) return callAt(others);
          throw new Error(`cannot call ${endpoint}: ${cause?.message ?? (e as Error).message}`);
        }
      };
      const result = await callAt([cfg.endpoint, ...replicas]);
      console.log(JSON.stringify(result.Response, null, 2));
      if (result.Response.Error) process.exitCode = 1;
    });
}

addRegionCommands(program);
addTraceCommands(program);
addStatusCommand(program);
addFlowLogCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  // Commander has already printed its own message (or the help text).
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  console.error(`weft: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
