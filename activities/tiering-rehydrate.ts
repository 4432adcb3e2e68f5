// One rehydrate wave on the host: check what stands where each stub should be,
// fetch the Tier-2 copy into a temp file beside it and verify its hash, give it the
// stub's owner, mode, xattrs and the original times, then swap it in atomically.
import type { Outcome, WorkRow } from '../db/queries/tiering';
import { keyOfUri } from '../lib/target-uri';
import { localPath, sourceBarrier, tempBeside, type WaveContext } from './tiering-act';
import type { StubInspection } from './stub-ops';

type StubFound = Extract<StubInspection, { kind: 'stub' }>;

export async function rehydrateWave(ctx: WaveContext, rows: WorkRow[]): Promise<Outcome[]> {
  const outcomes = new Map<number, Outcome>();
  const settle = (i: number, outcome: Omit<Outcome, 'id' | 'fullPath'>) => outcomes.set(rows[i].id, { id: rows[i].id, fullPath: rows[i].fullPath, ...outcome });
  const paths = rows.map((row) => localPath(ctx.root, row.relPath));
  const inspections = await ctx.pool.run('inspectStubs', rows.map((row, i) => ({
    path: paths[i], root: ctx.root, expectUri: row.targetUri, expectSha256: row.sha256 ?? '',
  })));
  const toFetch: number[] = [];
  inspections.forEach((inspection, i) => {
    const done = { sha256: rows[i].sha256 ?? undefined, size: rows[i].size, uri: rows[i].targetUri };
    if (inspection.kind === 'stub') toFetch.push(i);
    else if (inspection.kind === 'restored') settle(i, { result: 'rehydrated', ...done, detail: 'already restored by an earlier attempt' });
    else if (inspection.kind === 'skip') settle(i, { result: 'skipped', reason: inspection.reason, detail: inspection.detail });
    else settle(i, { result: 'failed', reason: 'inspect', detail: inspection.message });
  });
  const fetched = await fetchCopies(ctx, rows, paths, inspections, toFetch, settle);
  const temps = fetched.map((i) => tempBeside(paths[i], rows[i].id, 'restore'));
  const stubOf = (i: number) => inspections[i] as StubFound;
  const prepared = await ctx.pool.run('prepareRestored', fetched.map((i, n) => ({
    stubPath: paths[i], tempPath: temps[n], stub: stubOf(i).stub, meta: stubOf(i).meta, fsync: ctx.durability === 'fsync',
  })));
  const ready = fetched.map((i, n) => ({ i, temp: temps[n] })).filter((entry, n) => {
    if (prepared[n] !== null) settle(entry.i, { result: 'failed', reason: 'restore-metadata', detail: prepared[n] as string });
    return prepared[n] === null;
  });
  await ctx.pool.run('removeAll', fetched.map((_i, n) => temps[n]).filter((_t, n) => prepared[n] !== null));
  await sourceBarrier(ctx, ready.map((entry) => entry.temp));
  const swapped = await ctx.pool.run('replaceAll', ready.map(({ i, temp }) => ({ tempPath: temp, targetPath: paths[i], fingerprint: stubOf(i).fingerprint })));
  const restored: string[] = [];
  ready.forEach(({ i }, n) => {
    const result = swapped[n];
    if (result === 'replaced') {
      restored.push(paths[i]);
      settle(i, { result: 'rehydrated', sha256: rows[i].sha256 ?? undefined, size: rows[i].size, uri: rows[i].targetUri });
    } else if (result === 'changed') settle(i, { result: 'skipped', reason: 'stub-changed', detail: 'the stub changed while its content was fetched' });
    else settle(i, { result: 'failed', reason: 'restore-swap', detail: result.error });
  });
  await sourceBarrier(ctx, restored);
  return rows.map((row) => outcomes.get(row.id) as Outcome);
}

async function fetchCopies(ctx: WaveContext, rows: WorkRow[], paths: string[], inspections: StubInspection[], indexes: number[],
  settle: (i: number, outcome: Omit<Outcome, 'id' | 'fullPath'>) => void): Promise<number[]> {
  const keyed = indexes.filter((i) => {
    if (keyOfUri(ctx.target.rootUri, rows[i].targetUri) !== null) return true;
    settle(i, { result: 'failed', reason: 'target-moved', detail: `${rows[i].targetUri} is not under ${ctx.target.rootUri}` });
    return false;
  });
  const results = await ctx.target.get(keyed.map((i) => ({
    key: keyOfUri(ctx.target.rootUri, rows[i].targetUri) as string, destinationPath: tempBeside(paths[i], rows[i].id, 'restore'),
    expected: { size: (inspections[i] as StubFound).stub.size, sha256: rows[i].sha256 ?? '' },
  })));
  return keyed.filter((i, n) => {
    const result = results[n];
    if (!result.ok) settle(i, { result: 'failed', reason: result.reason === 'missing' ? 'copy-missing' : result.reason === 'mismatch' ? 'copy-mismatch' : 'fetch', detail: result.message });
    return result.ok;
  });
}
