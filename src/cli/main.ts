#!/usr/bin/env node
/**
 * The weft command: the controller (`weft server`), accounts, and an API
 * client in the manner of tccli (`weft vpc CreateVpc --VpcName a --CidrBlock 10.0.0.0/16`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { accountByName, createAccount, setQuotas } from '../accounts/accounts.js';
import { loadMasterKey } from '../accounts/secrets.js';
import type { Service } from '../api/action.js';
import { ACTIONS } from '../api/registry.js';
import { startController, type CredentialsFile } from '../controller/controller.js';
import { openStore } from '../store/store.js';
import { call } from './client.js';
import { parseActionArgs } from './args.js';

const SERVICES: Service[] = ['vpc', 'cvm', 'clb'];

function storeUrl(dataDir: string, database?: string) {
  return database ?? join(dataDir, 'weft.db');
}

const program = new Command('weft')
  .description('Weft: VPCs, subnets, security groups and instances behind a Tencent Cloud API 3.0 endpoint')
  .addHelpText(
    'after',
    `\nAPI client (like tccli):\n  weft <service> <Action> [--Param value …]   nested values as JSON, e.g. --Filters '[{"Name":"vpc-name","Values":["a"]}]'\n` +
      `  credentials from WEFT_SECRET_ID, WEFT_SECRET_KEY, WEFT_ENDPOINT (and WEFT_REGION), or --data-dir DIR\n\n` +
      SERVICES.map((s) => {
        const names = ACTIONS.filter((a) => a.service === s).map((a) => a.name);
        return names.length ? `${s}:\n${names.map((n) => `  ${n}`).join('\n')}` : '';
      })
        .filter(Boolean)
        .join('\n'),
  );

program
  .command('server')
  .description('run the controller in the foreground')
  .requiredOption('--data-dir <dir>', 'state and credentials directory')
  .option('--listen <host:port>', 'API endpoint', '127.0.0.1:9080')
  .option('--database <url>', 'postgres://… (default: SQLite in the data dir)')
  .option('--region <name>', 'region name', 'local')
  .option('--zones <n>', 'number of zones', (v) => Number(v), 2)
  .option('--rate-limit <n>', 'API requests per second per account (0: unlimited)', (v) => Number(v), 1000)
  .action(async (o: { dataDir: string; listen: string; database?: string; region: string; zones: number; rateLimit: number }) => {
    const c = await startController(o);
    console.log(`weft controller serving region ${c.region.name} (${c.region.zones.map((z) => z.name).join(', ')})`);
    console.log(`  endpoint     http://${c.endpoint}`);
    console.log(`  store        ${c.store.engine === 'sqlite' ? storeUrl(o.dataDir) : 'postgres'}`);
    console.log(`  credentials  ${c.credentialsFile}`);
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
    const store = await openStore(storeUrl(o.dataDir, o.database));
    try {
      const creds = await createAccount(store, loadMasterKey(o.dataDir), o.name);
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
    const store = await openStore(storeUrl(o.dataDir, o.database));
    try {
      if (!o.set?.length) {
        const a = await accountByName(store, o.name);
        if (!a) throw new Error(`no account named \`${o.name}\``);
        console.log(JSON.stringify(a.quotas, null, 2));
        return;
      }
      const changes = Object.fromEntries(o.set.map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
      console.log(JSON.stringify(await setQuotas(store, o.name, changes), null, 2));
    } finally {
      await store.close();
    }
  });

function readCredentials(dataDir: string): CredentialsFile | undefined {
  const f = join(dataDir, 'credentials.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CredentialsFile) : undefined;
}

for (const service of SERVICES) {
  program
    .command(service)
    .description(`call a ${service} action: weft ${service} <Action> [--Param value …]`)
    .argument('<action>')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[params...]')
    .action(async (actionName: string, rest: string[]) => {
      const def = ACTIONS.find((a) => a.name === actionName && a.service === service);
      if (!def) {
        const known = ACTIONS.filter((a) => a.service === service).map((a) => a.name);
        throw new Error(`${service} has no action \`${actionName}\`; known: ${known.join(', ') || 'none yet'}`);
      }
      const { params, dataDir } = parseActionArgs(rest);
      const file = dataDir ? readCredentials(dataDir) : undefined;
      if (dataDir && !file) throw new Error(`${join(dataDir, 'credentials.json')} not found: is a controller running with --data-dir ${dataDir}?`);
      const env = process.env;
      const cfg = {
        endpoint: env.WEFT_ENDPOINT ?? file?.Endpoint ?? '127.0.0.1:9080',
        secretId: env.WEFT_SECRET_ID ?? file?.SecretId ?? '',
        secretKey: env.WEFT_SECRET_KEY ?? file?.SecretKey ?? '',
        region: env.WEFT_REGION ?? file?.Region ?? 'local',
      };
      if (!cfg.secretId || !cfg.secretKey) throw new Error('no credentials: set WEFT_SECRET_ID and WEFT_SECRET_KEY, or pass --data-dir DIR');
      const result = await call(cfg, service, actionName, params);
      console.log(JSON.stringify(result.Response, null, 2));
      if (result.Response.Error) process.exitCode = 1;
    });
}

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`weft: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
