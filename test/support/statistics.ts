// When the planner statistics of file and dir were last refreshed by an ANALYZE command
// (autovacuum's own analyzes are counted apart), for tests of bulk loads that refresh them.
import type { Pool } from 'pg';

export interface AnalyzedAt { file: number; dir: number }

/** Milliseconds since the epoch of the last ANALYZE of file and of dir; 0 when never. */
export async function lastAnalyzed(admin: Pool): Promise<AnalyzedAt> {
  const result = await admin.query(
    `SELECT relname, coalesce(extract(epoch FROM last_analyze) * 1000, 0)::float8 AS at FROM pg_stat_user_tables WHERE relname IN ('file', 'dir')`);
  const at = Object.fromEntries(result.rows.map((row) => [row.relname, Number(row.at)]));
  return { file: at.file ?? 0, dir: at.dir ?? 0 };
}
