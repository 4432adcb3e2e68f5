// One act wave on the host: inspect the sources, put verified copies on Tier-2 and
// make them durable, turn each source into its stub only while it is exactly what
// was copied, make that durable. A repeated wave finds the stubs it already marked,
// verifies their copies and finishes them: the only copy is never lost.
import { dirname, join } from 'node:path';
import type { Outcome, WorkRow } from '../db/queries/tiering';
import { keyOfUri } from '../lib/target-uri';
import type { FsTier2Ops } from '../lib/tier2-fs';
import type { Durability, Tier2Target } from '../lib/tier2-target';
import type { Inspection } from './tiering-fsops';
import type { TieringPool } from './tiering-pool';
import { InvalidInputError } from './errors';

export interface WaveContext { pool: TieringPool; ops: FsTier2Ops; target: Tier2Target; root: string; durability: Durability }

type Staged = { index: number; sha256: string; size: number };

/** The file's path on this host; plans only hold validated segments, so a bad one is a bug, refused loudly. */
export function localPath(root: string, relPath: string): string {
  if (relPath.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidInputError(`unsafe relative path ${JSON.stringify(relPath)}`);
  }
  return join(root, relPath);
}

export function tempBeside(path: string, id: number, purpose: 'restore'): string {
  return join(dirname(path), `.${id}.strata-${purpose}~tmp`);
}

/** Durable source-side changes: syncfs of the share's filesystem, or fsync of the directories touched. */
export async function sourceBarrier(ctx: WaveContext, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const dirs = ctx.durability === 'fsync' ? [...new Set(paths.map((path) => dirname(path)))] : [];
  await ctx.ops.barrier({ mode: ctx.durability, anchors: [ctx.root], files: [], dirs });
}

export async function actWave(ctx: WaveContext, rows: WorkRow[]): Promise<Outcome[]> {
  const outcomes = new Map<number, Outcome>();
  const settle = (i: number, outcome: Omit<Outcome, 'id' | 'fullPath'>) => outcomes.set(rows[i].id, { id: rows[i].id, fullPath: rows[i].fullPath, ...outcome });
  const paths = rows.map((row) => localPath(ctx.root, row.relPath));
  // A key outside the target (its root URI changed since planning) fails that file only.
  const keys = rows.map((row) => keyOfUri(ctx.target.rootUri, row.targetUri));
  const inspections = await ctx.pool.run('inspectSources', rows.map((row, i) => ({
    path: paths[i], root: ctx.root, expectSize: row.size, expectMtime: row.mtime,
  })));
  const stubbedBefore: number[] = [];
  const toCopy: number[] = [];
  inspections.forEach((inspection, i) => {
    if (keys[i] === null) settle(i, { result: 'failed', reason: 'target-moved', detail: `${rows[i].targetUri} is not under ${ctx.target.rootUri}` });
    else if (inspection.kind === 'file') toCopy.push(i);
    else if (inspection.kind === 'stub') {
      if (inspection.stub.uri === rows[i].targetUri && inspection.stub.tierId === rows[i].id) stubbedBefore.push(i);
      else settle(i, { result: 'failed', reason: 'foreign-stub', detail: inspection.stub.uri });
    } else if (inspection.kind === 'skip') settle(i, { result: 'skipped', reason: inspection.reason, detail: inspection.detail });
    else settle(i, { result: 'failed', reason: 'inspect', detail: inspection.message });
  });
  await verifyStubbedBefore(ctx, rows, paths, keys, inspections, stubbedBefore, settle);
  const staged = await putCopies(ctx, rows, paths, keys, inspections, toCopy, settle);
  await stubSources(ctx, rows, paths, inspections, staged, settle);
  return rows.map((row) => outcomes.get(row.id) as Outcome);
}

type Settle = (i: number, outcome: Omit<Outcome, 'id' | 'fullPath'>) => void;

/** A stub from an earlier, interrupted attempt counts only if its copy is on Tier-2 and matches; then it is finished. */
async function verifyStubbedBefore(ctx: WaveContext, rows: WorkRow[], paths: string[], keys: (string | null)[], inspections: Inspection[], indexes: number[], settle: Settle): Promise<void> {
  const stubs = indexes.map((i) => (inspections[i] as Extract<Inspection, { kind: 'stub' }>).stub);
  const verdicts = await ctx.target.verify(indexes.map((i, n) => ({ key: keys[i] as string, expected: { size: stubs[n].size, sha256: stubs[n].sha256 } })));
  const verified = indexes.map((i, n) => ({ i, n })).filter(({ i, n }) => {
    if (verdicts[n] !== 'ok') settle(i, { result: 'failed', reason: 'stub-without-copy', detail: `Tier-2 copy is ${verdicts[n]}` });
    return verdicts[n] === 'ok';
  });
  const completed = await ctx.pool.run('completeStubs', verified.map(({ i, n }) => ({ path: paths[i], stub: stubs[n], fsync: ctx.durability === 'fsync' })));
  verified.forEach(({ i, n }, k) => {
    const result = completed[k];
    if (result === 'stubbed') settle(i, { result: 'stubbed', sha256: stubs[n].sha256, size: stubs[n].size, uri: rows[i].targetUri, detail: 'stub found from an earlier attempt' });
    else if (result === 'changed') settle(i, { result: 'skipped', reason: 'changed', detail: 'written to after an interrupted attempt marked it; unmarked' });
    else settle(i, { result: 'failed', reason: 'stub-write', detail: result.error });
  });
  await sourceBarrier(ctx, verified.map(({ i }) => paths[i]));
}

async function putCopies(ctx: WaveContext, rows: WorkRow[], paths: string[], keys: (string | null)[], inspections: Inspection[], indexes: number[], settle: Settle): Promise<Staged[]> {
  const results = await ctx.target.put(indexes.map((i) => ({
    key: keys[i] as string, sourcePath: paths[i], label: rows[i].fullPath,
    fingerprint: (inspections[i] as Extract<Inspection, { kind: 'file' }>).fingerprint,
  })));
  const staged: Staged[] = [];
  results.forEach((result, n) => {
    const i = indexes[n];
    if (result.ok) staged.push({ index: i, sha256: result.sha256, size: result.size });
    else if (result.reason === 'changed') settle(i, { result: 'skipped', reason: 'changed', detail: result.message });
    else settle(i, { result: 'failed', reason: result.reason === 'mismatch' ? 'copy-mismatch' : 'copy', detail: result.message });
  });
  return staged;
}

/** Copies are durable before any source gives up its content; stubs are durable before the database hears of them. */
async function stubSources(ctx: WaveContext, rows: WorkRow[], paths: string[], inspections: Inspection[], staged: Staged[], settle: Settle): Promise<void> {
  if (staged.length === 0) return;
  await ctx.target.flush();
  const file = (i: number) => inspections[i] as Extract<Inspection, { kind: 'file' }>;
  const requests = staged.map(({ index, sha256, size }) => ({
    path: paths[index], fingerprint: file(index).fingerprint, fsync: ctx.durability === 'fsync',
    stub: { uri: rows[index].targetUri, size, sha256, tierId: rows[index].id, atimeNs: file(index).meta.atimeNs, mtimeNs: file(index).meta.mtimeNs },
  }));
  const results = await ctx.pool.run('stubInPlace', requests);
  const stubbed: string[] = [];
  staged.forEach((entry, n) => {
    const result = results[n];
    if (result === 'stubbed') {
      stubbed.push(paths[entry.index]);
      settle(entry.index, { result: 'stubbed', sha256: entry.sha256, size: entry.size, uri: rows[entry.index].targetUri });
    } else if (result === 'changed') settle(entry.index, { result: 'skipped', reason: 'changed', detail: 'source changed before it became a stub' });
    else settle(entry.index, { result: 'failed', reason: 'stub-write', detail: result.error });
  });
  await sourceBarrier(ctx, stubbed);
}
