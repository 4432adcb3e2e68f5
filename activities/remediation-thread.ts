// Worker-thread entry for remediation's per-file work: runs one named step over a
// slice of items and posts the results back, keeping the host worker's event loop
// free for heartbeats and database writes while both cores make syscalls.
import { parentPort } from 'node:worker_threads';
import { applyOne, rollbackOne, snapshotOne, verifyOne } from './remediation-fs';

const OPS = { snapshot: snapshotOne, apply: applyOne, verify: verifyOne, rollback: rollbackOne } as Record<string, (item: never) => unknown>;

parentPort?.on('message', (request: { id: number; op: string; items: never[] }) => {
  try {
    parentPort?.postMessage({ id: request.id, results: request.items.map((item) => OPS[request.op](item)) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) });
  }
});
