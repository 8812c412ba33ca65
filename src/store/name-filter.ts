/** The "fuzzy" name filters of Describe actions, as SQL. */
import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { NAME_SEARCH_TABLES } from './migrations.js';

/** Where a name filter can use an index of its table's names (migrations.ts: pg_trgm on PostgreSQL, FTS5 on SQLite): the query's database, and the table. */
export interface NameSearch {
  db: Kysely<any>;
  table: (typeof NAME_SEARCH_TABLES)[number];
}

/**
 * Case-insensitive substring match: `lower(name) like '%…%'`, which
 * PostgreSQL's trigram index on `lower(name)` serves (migration
 * 0004-name-search); on SQLite, given `search`, through the table's FTS5
 * trigram index (migration 0020-name-search-sqlite).
 */
export function nameContains(column: string, text: string, search?: NameSearch) {
  // SQLite's trigram index serves LIKE without an ESCAPE clause only: text with a wildcard character scans.
  if (search && search.db.getExecutor().adapter instanceof SqliteAdapter && text.length >= 3 && !/[\\%_]/.test(text))
    return sql<boolean>`${sql.ref(`${search.table}.rowid`)} in (select rowid from ${sql.table(`${search.table}_name_fts`)} where name like ${`%${text}%`})`;
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`).toLowerCase()}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}
