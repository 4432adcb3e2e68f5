// The named synchronous steps a tiering worker thread can run; each maps a slice
// of items to one result per item, so batches split across threads freely.
import type { BarrierRequest } from '../lib/tier2-fs';
import { hashPaths, stageCopies } from './tiering-copy';
import { barrier, inspectSources } from './tiering-fsops';
import {
  completeStubs, fetchCopies, inspectStubs, prepareRestored, readStubs, removeAll, replaceAll, stubInPlace,
} from './stub-ops';

export const TIERING_OPS = {
  inspectSources, stageCopies, hashPaths, fetchCopies, stubInPlace, completeStubs, replaceAll, removeAll,
  inspectStubs, prepareRestored, readStubs,
  barrier: (requests: BarrierRequest[]) => requests.map((request) => { barrier(request); return null; }),
};

export type TieringOps = typeof TIERING_OPS;
export type TieringOpName = keyof TieringOps;
export type OpInput<K extends TieringOpName> = Parameters<TieringOps[K]>[0][number];
export type OpOutput<K extends TieringOpName> = ReturnType<TieringOps[K]>[number];
