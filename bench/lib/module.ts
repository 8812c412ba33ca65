/** What bench/run.ts hands every bench module, and what a module gives back. */
export type Engine = 'sqlite' | 'postgres';

export interface BenchOptions {
  quick: boolean;
  engines: Engine[];
  /** Admin connection of the PostgreSQL server to create fresh databases on. */
  postgresBase: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Measured windows per figure, back to back after one warm-up; figures are medians. */
  rounds: number;
  /** Before each measurement, wait (boundedly) until the rest of the machine keeps fewer cores busy than this. */
  quietCores: number;
  /** When set, servers run under `node --cpu-prof` and their profiles are summarised and kept here. */
  profileDir?: string;
}

export interface BenchModule {
  name: string;
  description: string;
  /** Runs the bench, printing progress to stderr; returns the report (a table) and the figures as JSON. */
  run(o: BenchOptions): Promise<{ report: string; json: unknown }>;
}
