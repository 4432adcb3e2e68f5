// One host batch per action at a time. A batch whose heartbeat timed out may still
// be finishing a wave when its retry starts; a session advisory lock (released by
// Postgres when the holder's process dies) keeps the two from touching the same files.
import type { Pool } from 'pg';
import { ActionBusyError } from './errors';

export async function withActionLock<T>(pool: Pool, actionId: string, work: () => Promise<T>, waitMs = 15_000): Promise<T> {
  const client = await pool.connect();
  let held = false;
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      held = (await client.query(`SELECT pg_try_advisory_lock(hashtextextended('tiering-action:' || $1, 0)) AS ok`, [actionId])).rows[0].ok;
      if (held) break;
      // Retryable: the earlier attempt stops at its next wave once it learns it timed out.
      if (Date.now() > deadline) throw new ActionBusyError(`another batch of action ${actionId} is still running`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return await work();
  } finally {
    if (held) await client.query(`SELECT pg_advisory_unlock(hashtextextended('tiering-action:' || $1, 0))`, [actionId]).catch(() => undefined);
    client.release();
  }
}
