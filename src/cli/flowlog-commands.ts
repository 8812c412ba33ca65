/**
 * weft flowlogs: a flow log's records from the region's store. Tencent users
 * read flow logs in CLS; Weft has no CLS, so this (or the JSON-lines file the
 * controller appends to, docs/operations.md) is where they are read.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { FLOW_LOG_FIELDS, type FlowLogRecord } from '../contract/flow-logs.js';
import { recordsOf } from '../store/flow-logs.js';
import { UsageError } from './args.js';
import { openDataDirStore } from './data-dir-store.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `15m`, `2h`, `7d` (or a bare number of seconds) in seconds, or a usage error saying what to write. */
export function parseDuration(v: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new InvalidArgumentError(`expected a duration such as 90s, 15m, 2h or 7d, got \`${v}\``);
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

/** A record as one line, Tencent's fields in their order (as CLS shows the raw log). */
export const recordLine = (r: FlowLogRecord) => FLOW_LOG_FIELDS.map((f) => String(r[f])).join(' ');

export function addFlowLogCommands(program: Command) {
  program
    .command('flowlogs')
    .description("a flow log's records (accepted flows and rejected packets, one per direction of a 5-tuple per capture window), oldest first")
    .requiredOption('--data-dir <dir>')
    .requiredOption('--flow-log-id <id>', 'fl-xxxxxxxx (CreateFlowLog)')
    .option('--since <duration>', 'records of windows that ended this long ago or later: 90s, 15m, 2h, 7d', parseDuration, 3600)
    .option('--json', 'a JSON array of records with Tencent\'s field names')
    .option('--database <url>', "postgres://… (default: the data dir's store, SQLite or the PostgreSQL URL its controller recorded)")
    .action(async (o: { dataDir: string; flowLogId: string; since: number; json?: boolean; database?: string }) => {
      if (!/^fl-[0-9a-z]{8}$/.test(o.flowLogId)) throw new UsageError(`--flow-log-id \`${o.flowLogId}\` is not a flow log ID (fl-xxxxxxxx); DescribeFlowLogs lists them`);
      const store = await openDataDirStore(o.dataDir, o.database);
      try {
        const log = await store.db.selectFrom('flow_logs').select('id').where('id', '=', o.flowLogId).executeTakeFirst();
        if (!log) throw new UsageError(`no flow log ${o.flowLogId} in this region; DescribeFlowLogs lists them`);
        const records = await recordsOf(store.db, o.flowLogId, Math.floor(Date.now() / 1000) - o.since);
        if (o.json) console.log(JSON.stringify(records, null, 2));
        else {
          console.log(FLOW_LOG_FIELDS.join(' '));
          for (const r of records) console.log(recordLine(r));
        }
      } finally {
        await store.close();
      }
    });
}
