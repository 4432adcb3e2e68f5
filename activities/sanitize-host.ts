// Host-side sanitize work on the Tier-2 root: the resumable inventory walk, and
// quarantining or deleting orphans, each re-checked at execution time.
import { lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { appendAudit } from '../db/queries/audit';
import { targetRootOf } from '../db/queries/sanitize';
import { countDone, isReferenced, markItem, markStarted, pendingFileItems } from '../db/queries/sanitize-items';
import { decodeKey, encodeSegment, keyOfUri, targetUri, TEMP_SUFFIX } from '../lib/target-uri';
import { NotFoundError } from './errors';
import { lgetxattr } from './ffi';
import { COPY_OF_ATTRIBUTE, parseCopyOf } from './stub-format';

export const QUARANTINE_DIR = '.strata-quarantine';
const ORPHAN_PAGE = 200;
const BATCH = 5_000;

interface InventoryProgress { lastKey: string | null; objects: number; bytes: number }

async function* walkSorted(root: string, prefix: string[], resumeAfter: string[] | null): AsyncGenerator<{ segments: string[]; size: number }> {
  const entries = (await readdir(join(root, ...prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const segments = [...prefix, entry.name];
    if (resumeAfter && !isAncestor(segments, resumeAfter) && compareSegments(segments, resumeAfter) <= 0) continue;
    if (entry.isDirectory()) yield* walkSorted(root, segments, resumeAfter);
    else if (entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX)) yield { segments, size: (await lstat(join(root, ...segments))).size };
  }
}

function isAncestor(candidate: string[], of: string[]): boolean {
  return candidate.length < of.length && candidate.every((segment, i) => segment === of[i]);
}

function compareSegments(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function csvField(value: string | null): string {
  return value === null ? '' : `"${value.replace(/"/g, '""')}"`;
}

async function storeBatch(pool: Pool, tenantId: string, shareName: string, runId: string, rows: { uri: string; size: number; tag: string | null }[]): Promise<void> {
  await withTenant(pool, { tenantId, role: 'strata_sanitizer' }, async (client) => {
    await client.query('CREATE TEMP TABLE inventory_batch (target_uri text, size_bytes bigint, tag_full_path text) ON COMMIT DROP');
    const body = rows.map((row) => `${csvField(row.uri)},${row.size},${csvField(row.tag)}\n`).join('');
    await pipeline(Readable.from([body]), client.query(copyFrom('COPY inventory_batch FROM STDIN WITH (FORMAT csv)')));
    await client.query(
      `INSERT INTO tier2_inventory (tenant_id, share_name, target_uri, size_bytes, tag_full_path, last_seen_run)
       SELECT current_tenant(), $1, target_uri, size_bytes, tag_full_path, $2 FROM inventory_batch
       ON CONFLICT (tenant_id, target_uri) DO UPDATE
         SET size_bytes = EXCLUDED.size_bytes, tag_full_path = EXCLUDED.tag_full_path, last_seen_run = EXCLUDED.last_seen_run,
             share_name = EXCLUDED.share_name, discovered_at = now()`, [shareName, runId]);
  });
}

async function rootOf(pool: Pool, tenantId: string, shareName: string): Promise<{ uri: string; path: string }> {
  const target = await withTenant(pool, { tenantId, role: 'strata_sanitizer' }, (client) => targetRootOf(client, shareName));
  if (!target) throw new NotFoundError(`share ${shareName} has no Tier-2 target`);
  return { uri: target.uri, path: fileURLToPath(target.uri) };
}

export function createSanitizeHostActivities({ pool }: { pool: Pool }) {
  return {
    async inventoryTier2(input: { tenantId: string; shareName: string; runId: string }): Promise<{ objects: number; bytes: number }> {
      const root = await rootOf(pool, input.tenantId, input.shareName);
      const shareSegment = encodeSegment(input.shareName);
      const progress: InventoryProgress = (Context.current().info.heartbeatDetails as InventoryProgress | undefined) ?? { lastKey: null, objects: 0, bytes: 0 };
      const resumeAfter = progress.lastKey ? progress.lastKey.split('/').slice(1) : null;
      let batch: { uri: string; size: number; tag: string | null }[] = [];
      const flush = async (lastKey: string) => {
        await storeBatch(pool, input.tenantId, input.shareName, input.runId, batch);
        progress.objects += batch.length;
        progress.bytes += batch.reduce((sum, row) => sum + row.size, 0);
        progress.lastKey = lastKey;
        batch = [];
        Context.current().heartbeat(progress);
      };
      let lastKey = '';
      const exists = await lstat(join(root.path, shareSegment)).then(() => true, () => false);
      if (exists) {
        for await (const entry of walkSorted(join(root.path, shareSegment), [], resumeAfter)) {
          const key = [shareSegment, ...entry.segments].join('/');
          const decoded = decodeKey(key);
          const tag = decoded ? decoded.segments.join('/') : recordedSource(join(root.path, shareSegment, ...entry.segments));
          batch.push({ uri: targetUri(root.uri, key), size: entry.size, tag });
          lastKey = key;
          if (batch.length >= BATCH) await flush(key);
        }
      }
      if (batch.length > 0) await flush(lastKey);
      await withTenant(pool, { tenantId: input.tenantId, role: 'strata_sanitizer' }, async (client) => {
        await client.query('DELETE FROM tier2_inventory WHERE share_name = $1 AND last_seen_run <> $2', [input.shareName, input.runId]);
        await client.query('UPDATE sanitize_run SET inventoried = $2 WHERE id = $1', [input.runId, progress.objects]);
      });
      return { objects: progress.objects, bytes: progress.bytes };
    },

    /** Executes the run's pending orphan items, all of them or (maxItems) a batch; `more` when items are left. */
    async executeOrphanItems(input: OrphanInput & { shareName: string; maxItems?: number }): Promise<{ done: number; skipped: number; more: boolean }> {
      const root = await rootOf(pool, input.tenantId, input.shareName);
      const maxItems = input.maxItems ?? Number.MAX_SAFE_INTEGER;
      let done = 0;
      let skipped = 0;
      for (;;) {
        const page = Math.min(ORPHAN_PAGE, maxItems - done - skipped);
        const items = await withTenant(pool, { tenantId: input.tenantId, role: 'strata_sanitizer' }, (client) =>
          pendingFileItems(client, input.runId, ['quarantine_orphan', 'delete_orphan'], page));
        for (const item of items) {
          const result = await executeOrphan(pool, root, input, item);
          if (result === 'done') done += 1; else skipped += 1;
          Context.current().heartbeat({ done, skipped });
        }
        if (items.length < page) return { done, skipped, more: false };
        if (done + skipped >= maxItems) return { done, skipped, more: true };
      }
    },
  };
}

/** A hashed key does not say its path: the copy's label, where it has one, does. */
function recordedSource(path: string): string | null {
  try {
    return parseCopyOf(lgetxattr(path, COPY_OF_ATTRIBUTE));
  } catch {
    return null;
  }
}

type Root = { uri: string; path: string };
type OrphanInput = { tenantId: string; runId: string; actor: string; maxDeletes: number };
type Item = Awaited<ReturnType<typeof pendingFileItems>>[number];

async function executeOrphan(pool: Pool, root: Root, input: OrphanInput, item: Item): Promise<'done' | 'skipped'> {
  const asSanitizer = <T>(work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId: input.tenantId, role: 'strata_sanitizer' }, work);
  // A delete cannot be seen afterwards: its start is committed first, so a retry after
  // a crash between the unlink and the item's outcome knows the missing object was its own.
  if (item.action === 'delete_orphan' && !item.started) await asSanitizer((client) => markStarted(client, input.runId, item.itemNo));
  return asSanitizer(async (client) => {
    // One transaction per item: the database update commits only after the file
    // operation, and a retry re-checks the filesystem before acting again.
    const key = keyOfUri(root.uri, item.targetUri);
    let outcome: { result: 'done' | 'skipped'; reason: string | null };
    if (!key) outcome = { result: 'skipped', reason: 'object is not under the Tier-2 root' };
    else if (await isReferenced(client, item.targetUri)) outcome = { result: 'skipped', reason: 'object is referenced by a tier object now' };
    else if (item.action === 'delete_orphan') outcome = await deleteOrphan(join(root.path, key), item, await countDone(client, input.runId, 'delete_orphan'), input.maxDeletes);
    else outcome = await quarantineOrphan(root.path, key, input.runId, item);
    await markItem(client, input.runId, item.itemNo, outcome.result, outcome.reason);
    await appendAudit(client, input.tenantId, { actor: input.actor, action: `sanitize.${item.action}`, target: item.targetUri,
      details: { runId: input.runId, itemNo: item.itemNo, outcome: outcome.result, reason: outcome.reason }, eventKey: `sanitize/${input.runId}/${item.itemNo}` });
    return outcome.result;
  });
}

async function sizeOf(path: string): Promise<number | null> {
  return lstat(path).then((stats) => (stats.isFile() ? stats.size : null), () => null);
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}

async function quarantineOrphan(rootPath: string, key: string, runId: string, item: Item) {
  const from = join(rootPath, key);
  const to = join(rootPath, QUARANTINE_DIR, runId, key);
  const current = await sizeOf(from);
  if (current === null) {
    return (await sizeOf(to)) === item.sizeBytes ? { result: 'done' as const, reason: null } : { result: 'skipped' as const, reason: 'object is gone' };
  }
  if (current !== item.sizeBytes) return { result: 'skipped' as const, reason: `size changed since the report (${current} bytes)` };
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
  await syncDirectory(dirname(to));
  await syncDirectory(dirname(from));
  return { result: 'done' as const, reason: null };
}

async function deleteOrphan(path: string, item: Item, deleted: number, maxDeletes: number) {
  const current = await sizeOf(path);
  if (current === null) return item.started ? { result: 'done' as const, reason: null } : { result: 'skipped' as const, reason: 'object is gone' };
  if (current !== item.sizeBytes) return { result: 'skipped' as const, reason: `size changed since the report (${current} bytes)` };
  if (deleted >= maxDeletes) return { result: 'skipped' as const, reason: `max-delete limit of ${maxDeletes} reached` };
  await unlink(path);
  await syncDirectory(dirname(path));
  return { result: 'done' as const, reason: null };
}
