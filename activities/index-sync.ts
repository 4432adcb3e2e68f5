// Applies change events to a volume's live index on its host. An event only names
// a path: the entry is re-read from disk and the index made to match, so applying
// an event twice, late or out of order converges to the same rows. A directory that
// reappears under a new name with the same inode is moved with its subtree.
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { currentVolume } from '../db/queries/index';
import { insertDescriptors, insertIssues } from '../db/queries/index-load';
import { ancestorRefs, addToDirStats, dirTotals, rollUp, type DirTotals } from '../db/queries/index-stats';
import { deleteEntry, ensureDir, findByPath, findDirectoriesByRef, findMoveConflicts, moveEntry, upsertEntries, type IndexedRow } from '../db/queries/index-sync';
import { activeShareRoots } from '../db/queries/shares';
import type { ChangeEvent } from '../workflows/indexSync.messages';
import { DescriptorCatalog } from './acl';
import { PrincipalDirectory, type PrincipalPaths } from './acl-principals';
import * as ffi from './ffi';
import { refreshShareStats } from './index-db';
import { joinEscaped, splitEscaped } from './index-names';
import { FLAG_DIR, type EntryRow } from './index-rows';
import { pathHolds, snapshotEntry, walkSubtree, type SyncContext } from './index-sync-entry';

export interface ApplyChangesInput { tenantId: string; hostId: string; volume: string; events: ChangeEvent[]; principals?: PrincipalPaths; worldGroups?: string[] }
export interface ApplyChangesResult { applied: number; unchanged: number; ignored: number; failed: number; errors: string[] }

interface Apply extends SyncContext { client: PoolClient; tenantId: string; scanId: number }

export async function applyIndexChanges(pool: Pool, input: ApplyChangesInput): Promise<ApplyChangesResult> {
  const asIndexer = <T>(work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId: input.tenantId, role: 'strata_indexer' }, work);
  const result: ApplyChangesResult = { applied: 0, unchanged: 0, ignored: 0, failed: 0, errors: [] };
  const volume = await asIndexer((client) => currentVolume(client, input.hostId, input.volume));
  if (!volume) return { ...result, ignored: input.events.length, errors: [`${input.hostId}:${input.volume} has no index yet`] };
  const principals = PrincipalDirectory.load(input.principals);
  const root = ffi.lstatx(input.volume);
  const roots = await asIndexer((client) => activeShareRoots(client, input.hostId));
  const context: SyncContext = {
    catalog: new DescriptorCatalog(input.hostId, principals, principals.gidsNamed(input.worldGroups ?? ['users'])),
    volumeDev: { major: root.devMajor, minor: root.devMinor },
    shareRoots: new Map(roots.map((share) => [Buffer.from(share.localPath, 'utf8').toString('latin1'), share.id])),
  };
  for (const { path, from } of pathsToResync(input.events)) {
    if (path !== input.volume && !path.startsWith(input.volume === '/' ? '/' : `${input.volume}/`)) {
      result.ignored += 1;
      continue;
    }
    try {
      const changed = await asIndexer((client) => resync({ ...context, client, tenantId: input.tenantId, scanId: volume.scanId }, path, from));
      if (changed) result.applied += 1;
      else result.unchanged += 1;
    } catch (error) {
      result.failed += 1;
      if (result.errors.length < 20) result.errors.push(`${path}: ${(error as Error).message}`);
    }
  }
  await asIndexer(async (client) => {
    await refreshShareStats(client, input.hostId, input.volume, volume.scanId);
    await client.query(
      `UPDATE index_volume SET changes_applied = changes_applied + $3, last_change_at = now() WHERE host_id = $1 AND volume = $2`,
      [input.hostId, input.volume, result.applied]);
  });
  return result;
}

/** New names first (with the old name of a rename), so a moved entry is still found at its old name; then the old names. */
export function pathsToResync(events: ChangeEvent[]): { path: string; from?: string }[] {
  const clean = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);
  const ordered = new Map<string, { path: string; from?: string }>();
  for (const event of events) {
    const path = clean(event.path);
    const from = event.oldPath === undefined ? undefined : clean(event.oldPath);
    const known = ordered.get(path);
    if (!known) ordered.set(path, { path, from });
    else if (from !== undefined) known.from = from;
  }
  // Shallow paths first: a directory that moved is moved (with its subtree) before its entries are looked at.
  const depth = (path: string) => path.split('/').length;
  const targets = [...ordered.values()].sort((a, b) => depth(a.path) - depth(b.path));
  const olds = events.filter((e) => e.oldPath !== undefined && !ordered.has(clean(e.oldPath))).map((e) => ({ path: clean(e.oldPath!) }));
  return [...targets, ...olds.filter((o, i) => olds.findIndex((x) => x.path === o.path) === i)];
}

async function resync(apply: Apply, path: string, from?: string): Promise<boolean> {
  const { dirPath, name } = splitEscaped(path);
  const existing = await findByPath(apply.client, apply.scanId, dirPath, name);
  const row = snapshotEntry(apply, path);
  await flushDescriptors(apply);
  if (!row) {
    if (!existing) return false;
    await remove(apply, existing);
    return true;
  }
  const dirId = await ensureDir(apply.client, apply.tenantId, dirPath);
  if (existing && existing.fileRef === Number(row.ino)) {
    const before = await contribution(apply, existing);
    await upsertEntries(apply.client, apply.tenantId, apply.scanId, [{ dirId, row }]);
    await addDelta(apply, Number(row.parentIno), subtract(await contribution(apply, rowAsIndexed(row, existing)), before));
    return true;
  }
  if (existing) await remove(apply, existing);
  const source = await movedFrom(apply, row, path, from);
  if (source) {
    for (const conflict of await findMoveConflicts(apply.client, apply.scanId, source, path)) await remove(apply, conflict);
    const moved = await contribution(apply, source);
    await addDelta(apply, source.parentRef, negate(moved));
    await moveEntry(apply.client, apply.tenantId, apply.scanId, source, { dirId, name, parentRef: Number(row.parentIno), newPath: path });
    await upsertEntries(apply.client, apply.tenantId, apply.scanId, [{ dirId, row }]);
    await addDelta(apply, Number(row.parentIno), await contribution(apply, rowAsIndexed(row, source)));
    return true;
  }
  await upsertEntries(apply.client, apply.tenantId, apply.scanId, [{ dirId, row }]);
  const added = row.flags & FLAG_DIR ? await insertSubtree(apply, path, row) : ownContribution(row.flags, Number(row.size), row.world);
  await addDelta(apply, Number(row.parentIno), added);
  return true;
}

/**
 * The indexed entry this one was moved from: a directory with the same inode elsewhere
 * in the index (directories are indexed by inode), or the old name a rename event
 * gave, provided the old path no longer holds that inode (so it is not a hard link).
 */
async function movedFrom(apply: Apply, row: EntryRow, newPath: string, from: string | undefined): Promise<IndexedRow | undefined> {
  const ino = Number(row.ino);
  const candidates = row.flags & FLAG_DIR ? await findDirectoriesByRef(apply.client, apply.scanId, ino) : [];
  if (from !== undefined) {
    const old = await findByPath(apply.client, apply.scanId, splitEscaped(from).dirPath, splitEscaped(from).name);
    if (old && old.fileRef === ino) candidates.push(old);
  }
  return candidates.find((c) => joinEscaped(c.dirPath, c.name) !== newPath && !pathHolds(joinEscaped(c.dirPath, c.name), ino));
}

async function remove(apply: Apply, row: IndexedRow): Promise<void> {
  const gone = await contribution(apply, row);
  await deleteEntry(apply.client, apply.scanId, row);
  await addDelta(apply, row.parentRef, negate(gone));
}

/** Inserts everything below a new directory with its directory stats; returns the directory's contribution. */
async function insertSubtree(apply: Apply, path: string, dir: EntryRow): Promise<DirTotals> {
  const { rows, issues } = walkSubtree(apply, path, dir);
  await flushDescriptors(apply);
  const dirIds = new Map<string, number>();
  for (const { dirPath } of rows) if (!dirIds.has(dirPath)) dirIds.set(dirPath, await ensureDir(apply.client, apply.tenantId, dirPath));
  await upsertEntries(apply.client, apply.tenantId, apply.scanId, rows.map(({ dirPath, row }) => ({ dirId: dirIds.get(dirPath)!, row })));
  if (issues.length > 0) await insertIssues(apply.client, apply.tenantId, apply.scanId, issues);
  const direct = new Map<number, DirTotals & { dirRef: number }>();
  const tree = [{ ref: Number(dir.ino), parent: Number(dir.parentIno) }];
  for (const { row } of rows) {
    const parent = Number(row.parentIno);
    const totals = direct.get(parent) ?? { dirRef: parent, files: 0, dirs: 0, bytes: 0, worldFiles: 0 };
    const own = ownContribution(row.flags, Number(row.size), row.world);
    direct.set(parent, { dirRef: parent, files: totals.files + own.files, dirs: totals.dirs + own.dirs, bytes: totals.bytes + own.bytes, worldFiles: totals.worldFiles + own.worldFiles });
    if (row.flags & FLAG_DIR) tree.push({ ref: Number(row.ino), parent });
  }
  let top: DirTotals = { files: 0, dirs: 0, bytes: 0, worldFiles: 0 };
  for (const totals of rollUp([...direct.values()], tree)) {
    await addToDirStats(apply.client, apply.tenantId, apply.scanId, [totals.dirRef], totals);
    if (totals.dirRef === Number(dir.ino)) top = totals;
  }
  return { ...top, dirs: top.dirs + 1 };
}

async function flushDescriptors(apply: Apply): Promise<void> {
  const pending = apply.catalog.takePending();
  if (pending.length > 0) await insertDescriptors(apply.client, apply.tenantId, pending);
}

function ownContribution(flags: number, size: number, world: boolean): DirTotals {
  return flags & FLAG_DIR ? { files: 0, dirs: 1, bytes: 0, worldFiles: 0 } : { files: 1, dirs: 0, bytes: size, worldFiles: world ? 1 : 0 };
}

/** What a row adds to its ancestors: itself, plus its subtree for a directory. */
async function contribution(apply: Apply, row: Pick<IndexedRow, 'flags' | 'size' | 'world' | 'fileRef'>): Promise<DirTotals> {
  const own = ownContribution(row.flags, Number(row.size), row.world);
  if (!(row.flags & FLAG_DIR)) return own;
  const below = await dirTotals(apply.client, apply.scanId, row.fileRef);
  return below ? { files: Number(below.files), dirs: Number(below.dirs) + 1, bytes: Number(below.bytes), worldFiles: Number(below.worldFiles) } : own;
}

function rowAsIndexed(row: EntryRow, base: IndexedRow): IndexedRow {
  return { ...base, fileRef: Number(row.ino), flags: row.flags, size: Number(row.size), world: row.world };
}

async function addDelta(apply: Apply, parentRef: number, delta: DirTotals): Promise<void> {
  await addToDirStats(apply.client, apply.tenantId, apply.scanId, await ancestorRefs(apply.client, apply.scanId, parentRef), delta);
}

function negate(t: DirTotals): DirTotals {
  return { files: -t.files, dirs: -t.dirs, bytes: -t.bytes, worldFiles: -t.worldFiles };
}

function subtract(a: DirTotals, b: DirTotals): DirTotals {
  return { files: a.files - b.files, dirs: a.dirs - b.dirs, bytes: a.bytes - b.bytes, worldFiles: a.worldFiles - b.worldFiles };
}
