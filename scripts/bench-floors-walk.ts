// Strata's tree walker on this thread over a whole tree, as a partition walk runs it
// (statx and ACL xattrs through koffi, descriptors catalogued, rows encoded for COPY),
// with every chunk dropped instead of loaded: the walk's CPU without Postgres or Temporal.
import { DescriptorCatalog } from '../activities/acl';
import { PrincipalDirectory } from '../activities/acl-principals';
import * as ffi from '../activities/ffi';
import type { BatchEncoder } from '../activities/index-rows';
import { TreeWalker } from '../activities/index-walker';

export function walkOnOneThread(tree: string): { user: number; sys: number; rows: number } {
  const principals = PrincipalDirectory.load({});
  const catalog = new DescriptorCatalog('floors', principals, principals.gidsNamed([]));
  const root = Buffer.from(tree);
  const stat = ffi.lstatx(root);
  let rows = 0;
  const walker = new TreeWalker({
    volumeDev: { major: stat.devMajor, minor: stat.devMinor }, shareRoots: new Map(), catalog,
    limits: { batchRows: 100_000, chunkRows: 10_000, sliceEntries: Infinity, sliceMs: Infinity, sliceDirs: Infinity, splitInto: 2 },
    onBatch({ sink }) {
      rows += sink.rows;
      (sink as BatchEncoder).take();
    },
  });
  const before = process.cpuUsage();
  walker.run([{ dir: { path: root.toString('base64'), ino: String(stat.ino), shareId: null }, phase: 'rows', from: null, until: null, emitSelf: true }]);
  const used = process.cpuUsage(before);
  return { user: used.user / 1e6, sys: used.system / 1e6, rows };
}
