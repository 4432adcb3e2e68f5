// Worker-thread entry for tiering's byte work: runs one named step over a slice of
// items and posts the results back, so the event loop stays free for heartbeats.
import { parentPort } from 'node:worker_threads';
import { TIERING_OPS, type TieringOpName } from './tiering-ops';

interface Request { id: number; op: TieringOpName; items: unknown[] }

parentPort?.on('message', (request: Request) => {
  try {
    const run = TIERING_OPS[request.op] as (items: unknown[]) => unknown[];
    parentPort?.postMessage({ id: request.id, results: run(request.items) });
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) });
  }
});
