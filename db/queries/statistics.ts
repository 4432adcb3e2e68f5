// Planner statistics refreshed after a bulk load. A scan loaded in one go is, until
// autovacuum gets to it, invisible to the statistics: its scan id and a new tenant's
// id are estimated at one row, and joins over its files are planned as nested loops
// that rescan every directory of the tenant for each file. ANALYZE needs MAINTAIN
// on the table (PostgreSQL 17); without it, or when it cannot get its lock soon, the
// refresh is skipped and autovacuum catches up later.
import type { PoolClient } from 'pg';

/** ANALYZE of the named tables inside the caller's transaction; answers whether it ran. */
export async function refreshStatistics(client: PoolClient, tables: string[]): Promise<boolean> {
  // Table names are interpolated: only plain identifiers from the code, never input.
  if (tables.some((table) => !/^[a-z_][a-z0-9_]*$/.test(table))) throw new Error(`not a table name: ${tables.join(', ')}`);
  const previous = (await client.query('SHOW lock_timeout')).rows[0].lock_timeout as string;
  await client.query('SAVEPOINT refresh_statistics');
  try {
    await client.query(`SET LOCAL lock_timeout = '5s'`);
    await client.query(`ANALYZE ${tables.join(', ')}`);
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [previous]);
    await client.query('RELEASE SAVEPOINT refresh_statistics');
    return true;
  } catch {
    // The savepoint also undoes the SET LOCAL: the caller's transaction goes on as before.
    await client.query('ROLLBACK TO SAVEPOINT refresh_statistics');
    return false;
  }
}
