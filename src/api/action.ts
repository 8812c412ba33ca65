/**
 * What an API action is: its service, name, parameter schema and handler. The
 * HTTP front (server.ts) authenticates, validates against `params` and calls
 * `run` with a context scoped to the calling account.
 */
import type { RegionStatusSource } from '../controller/region-status.js';
import type { TaskRunner } from '../controller/task-runner.js';
import type { Kysely } from 'kysely';
import type { Account } from '../accounts/accounts.js';
import type { DocumentSource } from '../contract/document-source.js';
import type { Region } from '../core/region.js';
import type { DB } from '../store/schema.js';
import type { Store, Write } from '../store/store.js';
import type { Infer, Schema } from './params.js';

export type { DocumentSource };

export type Service = 'vpc' | 'cvm' | 'clb' | 'monitor';
export const SERVICE_VERSIONS: Record<Service, string> = { vpc: '2017-03-12', cvm: '2017-03-12', clb: '2018-03-17', monitor: '2018-07-24' };

export interface Ctx {
  readonly store: Store;
  readonly db: Kysely<DB>;
  readonly account: Account;
  readonly region: Region;
  readonly requestId: string;
  /** Where host documents come from; absent (an API without a controller), they are compiled from the store. */
  readonly documents?: DocumentSource;
  /** The controller's view of the region (DescribeRegionStatus); absent, it is read from the store alone. */
  readonly regionStatus?: RegionStatusSource;
  /** Runs the long tasks actions start (controller/task-runner.ts), as this replica's. */
  readonly tasks: TaskRunner;
  /**
   * A store transaction for this request. When the request carries an
   * idempotency token, the response is recorded in the same transaction, so a
   * retry with the same token returns it instead of acting twice.
   */
  write<T extends object>(fn: (w: Write) => Promise<T>): Promise<T>;
  /**
   * The account's quotas. In a write they are read in its transaction, sent
   * with its first statements and not waited for: every answer the handler
   * gets waits for them, so `account.quotas` is fresh once the handler has
   * had one answer. A handler that needs quotas before its first statement
   * awaits this (reading `account.quotas` then is an error).
   */
  quotas(): Promise<Account['quotas']>;
}

export type Response = Record<string, unknown>;

export interface ActionDef<P = any> {
  service: Service;
  name: string;
  params: Schema<P>;
  /** Callable without X-TC-Region (DescribeRegions). */
  regionless?: boolean;
  /** Name of the parameter that makes retries idempotent (ClientToken). */
  idempotencyToken?: string;
  run(ctx: Ctx, params: P): Promise<Response>;
}

export function defineAction<S extends Schema<any>>(def: {
  service: Service;
  name: string;
  params: S;
  regionless?: boolean;
  idempotencyToken?: string;
  run(ctx: Ctx, params: Infer<S>): Promise<Response>;
}): ActionDef<Infer<S>> {
  return def;
}
