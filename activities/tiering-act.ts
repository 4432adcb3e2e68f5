// One act wave on the host: inspect the sources, put verified copies on Tier-2 and
// make them durable, write stubs beside the sources, swap each in only while its
// source is exactly what was copied, make that durable. A repeated wave finds the
// stubs it already wrote and only verifies their copies: the only copy is never lost.
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

export function tempBeside(path: string, id: number, purpose: 'stub' | 'restore'): string {
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
  await verifyStubbedBefore(ctx, rows, keys, inspections, stubbedBefore, settle);
  const staged = await putCopies(ctx, rows, paths, keys, inspections, toCopy, settle);
  await stubAndSwap(ctx, rows, paths, inspections, staged, settle);
  return rows.map((row) => outcomes.get(row.id) as Outcome);
}

type Settle = (i: number, outcome: Omit<Outcome, 'id' | 'fullPath'>) => void;

/** A stub from an earlier, interrupted attempt counts only if its copy is on Tier-2 and matches. */
async function verifyStubbedBefore(ctx: WaveContext, rows: WorkRow[], keys: (string | null)[], inspections: Inspection[], indexes: number[], settle: Settle): Promise<void> {
  const stubs = indexes.map((i) => (inspections[i] as Extract<Inspection, { kind: 'stub' }>).stub);
  const verdicts = await ctx.target.verify(indexes.map((i, n) => ({ key: keys[i] as string, expected: { size: stubs[n].size, sha256: stubs[n].sha256 } })));
  indexes.forEach((i, n) => {
    if (verdicts[n] === 'ok') settle(i, { result: 'stubbed', sha256: stubs[n].sha256, size: stubs[n].size, uri: rows[i].targetUri, detail: 'stub found from an earlier attempt' });
    else settle(i, { result: 'failed', reason: 'stub-without-copy', detail: `Tier-2 copy is ${verdicts[n]}` });
  });
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

async function stubAndSwap(ctx: WaveContext, rows: WorkRow[], paths: string[], inspections: Inspection[], staged: Staged[], settle: Settle): Promise<void> {
  if (staged.length === 0) return;
  const file = (i: number) => inspections[i] as Extract<Inspection, { kind: 'file' }>;
  const temps = staged.map(({ index }) => tempBeside(paths[index], rows[index].id, 'stub'));
  const written = await ctx.pool.run('writeStubTemps', staged.map(({ index, sha256, size }, n) => ({
    sourcePath: paths[index], tempPath: temps[n], meta: file(index).meta, fsync: ctx.durability === 'fsync',
    stub: { uri: rows[index].targetUri, size, sha256, tierId: rows[index].id, atimeNs: file(index).meta.atimeNs, mtimeNs: file(index).meta.mtimeNs },
  })));
  const ready = staged.map((entry, n) => ({ ...entry, temp: temps[n] })).filter((entry, n) => {
    if (written[n] !== null) settle(entry.index, { result: 'failed', reason: 'stub-write', detail: written[n] as string });
    return written[n] === null;
  });
  // The copies and the stubs are durable before any source is replaced (stub temps
  // were fsynced one by one in fsync mode; in syncfs mode this barrier covers them).
  await ctx.target.flush(ready.length > 0 ? [ctx.root] : []);
  const swapped = await ctx.pool.run('replaceAll', ready.map((entry) => ({
    tempPath: entry.temp, targetPath: paths[entry.index], fingerprint: file(entry.index).fingerprint,
  })));
  const replaced: string[] = [];
  const leftovers: string[] = [];
  ready.forEach((entry, n) => {
    const result = swapped[n];
    if (result === 'replaced') {
      replaced.push(paths[entry.index]);
      settle(entry.index, { result: 'stubbed', sha256: entry.sha256, size: entry.size, uri: rows[entry.index].targetUri });
    } else if (result === 'changed') settle(entry.index, { result: 'skipped', reason: 'changed', detail: 'source changed before the stub replaced it' });
    else {
      leftovers.push(entry.temp);
      settle(entry.index, { result: 'failed', reason: 'stub-swap', detail: result.error });
    }
  });
  await sourceBarrier(ctx, replaced);
  await ctx.pool.run('removeAll', leftovers);
}
