// Worker-thread entry of partition walks: for each walk job it is sent, walks
// synchronously through FFI and posts encoded chunks, waiting on a shared counter
// when the database falls behind. Threads are reused for further jobs, so the
// walk runs compiled code from the first entry (a fresh thread costs ~0.4 s of
// CPU warming up per partition).
import { parentPort } from 'node:worker_threads';
import { DescriptorCatalog } from './acl';
import { PrincipalDirectory, type PrincipalPaths } from './acl-principals';
import { ffiOptions } from './ffi';
import { splitWork } from './index-walk-io';
import { TreeWalker, type WalkLimits, type WorkItem } from './index-walker';
import type { BatchEncoder, EncodedBatch } from './index-rows';
import type { DescriptorRecord } from './acl';
import type { WalkIssue } from './index-walker';

export interface WalkThreadInput {
  hostId: string; todo: WorkItem[]; volumeDev: { major: number; minor: number }; shareRoots: [string, number][];
  principals: PrincipalPaths; worldGroups: string[]; limits: WalkLimits; useGetxattrat: boolean;
  /** Int32 counter of chunks posted but not yet loaded. */
  inFlight: SharedArrayBuffer; maxInFlight: number;
}

/** A chunk of rows to load; `commit` closes the batch with its checkpoint (and, when final, the split of what remains). */
export type WalkThreadMessage =
  | {
    type: 'chunk'; chunk: EncodedBatch; descriptors: DescriptorRecord[]; issues: WalkIssue[];
    commit: { state: WorkItem[]; final: boolean; children: WorkItem[][] } | null;
  }
  | { type: 'error'; message: string; stack?: string };

/** What the owner posts to start a walk. */
export interface WalkThreadJob { type: 'walk'; input: WalkThreadInput }

function walk(input: WalkThreadInput): void {
  ffiOptions.useGetxattrat = input.useGetxattrat;
  const principals = PrincipalDirectory.load(input.principals);
  const catalog = new DescriptorCatalog(input.hostId, principals, principals.gidsNamed(input.worldGroups));
  const inFlight = new Int32Array(input.inFlight);
  const walker = new TreeWalker({
    volumeDev: input.volumeDev, shareRoots: new Map(input.shareRoots), catalog, limits: input.limits,
    onBatch({ sink, issues, commit }) {
      const final = commit?.final ?? false;
      const children = final && commit!.state.length > 0 ? splitWork(commit!.state, input.limits.splitInto) : [];
      const message: WalkThreadMessage = {
        type: 'chunk', chunk: (sink as BatchEncoder).take(), descriptors: catalog.takePending(), issues,
        commit: commit && { state: commit.state, final, children },
      };
      Atomics.add(inFlight, 0, 1);
      parentPort!.postMessage(message);
      // After the final chunk the thread waits until it is committed: then the owner may reuse or end it.
      waitUntilBelow(inFlight, final ? 1 : input.maxInFlight);
    },
  });
  walker.run(input.todo);
}

function waitUntilBelow(counter: Int32Array, limit: number, timeoutMs = Infinity): void {
  for (let now = Atomics.load(counter, 0); now >= limit; now = Atomics.load(counter, 0)) {
    if (Atomics.wait(counter, 0, now, timeoutMs) === 'timed-out') return;
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: WalkThreadJob) => {
    try {
      walk(job.input);
    } catch (error) {
      const failure = error as Error;
      port.postMessage({ type: 'error', message: failure.message, stack: failure.stack } satisfies WalkThreadMessage);
      // Stay until the owner reads the error and terminates the thread (bounded, in case it never does).
      waitUntilBelow(new Int32Array(job.input.inFlight), -1, 60_000);
    }
  });
}
