/** The "fuzzy" name filters of Describe actions, as SQL. */
import { sql } from 'kysely';

/**
 * Case-insensitive substring match. Same SQL on both engines; on PostgreSQL a
 * trigram index on `lower(name)` serves it (migration 0004-name-search).
 */
export function nameContains(column: string, text: string) {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`).toLowerCase()}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}
