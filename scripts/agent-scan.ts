// `agent scan`: walk a share into gzip CSV chunks in a local queue directory,
// upload them (retried, idempotent per scan GUID + sequence), seal the scan and
// optionally wait for it. State lives in the queue directory (scan.json, chunk
// files, .ok done markers), so a killed agent resumes the same scan where it stopped.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { scanStatus, sealScan, uploadChunk, DEFAULT_RETRY, type ApiTarget, type RetryPolicy, type ScanHeaders } from './agent-client';
import { chunkFileName, walkIntoChunks, type WalkCounters } from './agent-walk';
import { Progress } from './agent-progress';

export interface ScanAgentOptions {
  root: string; share: string; srcType: string; target: ApiTarget; chunkRows: number;
  queueDir?: string; uploads?: number; wait?: boolean; newScan?: boolean; retry?: RetryPolicy; quiet?: boolean;
}
export interface ScanAgentResult { scanGuid: string; totalChunks: number; files: number; status?: string; warnings: string[] }

interface QueueState { scanGuid: string; root: string; share: string; srcType: string; startedAt: string; chunkRows: number; walked: boolean; totalChunks?: number; sealed: boolean }

export function defaultQueueDir(root: string, share: string): string {
  const id = createHash('sha256').update(resolve(root)).digest('hex').slice(0, 12);
  return join(homedir(), '.strata-agent', `${share.replace(/[^A-Za-z0-9._-]/g, '_')}-${id}`);
}

function saveState(queueDir: string, state: QueueState): void {
  writeFileSync(join(queueDir, 'scan.json.tmp'), JSON.stringify(state, null, 2));
  renameSync(join(queueDir, 'scan.json.tmp'), join(queueDir, 'scan.json'));
}

/** The unfinished scan of this queue to resume, or a fresh one. */
function openQueue(queueDir: string, options: ScanAgentOptions): QueueState {
  mkdirSync(queueDir, { recursive: true });
  const file = join(queueDir, 'scan.json');
  if (existsSync(file) && !options.newScan) {
    const state = JSON.parse(readFileSync(file, 'utf8')) as QueueState;
    const same = state.root === resolve(options.root) && state.share === options.share && state.chunkRows === options.chunkRows;
    if (same && !state.sealed) return state;
  }
  for (const name of readdirSync(queueDir)) rmSync(join(queueDir, name), { force: true });
  const state: QueueState = {
    scanGuid: randomUUID(), root: resolve(options.root), share: options.share, srcType: options.srcType,
    startedAt: new Date().toISOString(), chunkRows: options.chunkRows, walked: false, sealed: false,
  };
  saveState(queueDir, state);
  return state;
}

const seqOf = (name: string) => Number(/^chunk-(\d+)\./.exec(name)?.[1] ?? -1);

export async function runScanAgent(options: ScanAgentOptions): Promise<ScanAgentResult> {
  const queueDir = options.queueDir ?? defaultQueueDir(options.root, options.share);
  const state = openQueue(queueDir, options);
  const scan: ScanHeaders = { scanGuid: state.scanGuid, share: state.share, srcType: state.srcType, startedAt: state.startedAt };
  const counters: WalkCounters = { files: 0, dirs: 0, skipped: 0, warnings: [] };
  const progress = new Progress(state.scanGuid, options.quiet === true);
  const names = readdirSync(queueDir);
  const done = new Set(names.filter((n) => n.endsWith('.ok')).map(seqOf));
  const ready = names.filter((n) => n.endsWith('.csv.gz')).map(seqOf).filter((seq) => !done.has(seq));
  const queue = [...ready].sort((a, b) => a - b);
  progress.resumed(done.size);
  let walking = !state.walked;
  let failure: Error | undefined;

  const uploader = async () => {
    for (;;) {
      const seq = queue.shift();
      if (seq === undefined) {
        if (!walking || failure) return;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const file = join(queueDir, chunkFileName(seq));
      try {
        await uploadChunk(options.target, scan, seq, file, options.retry ?? DEFAULT_RETRY, (why, ms) => progress.retrying(seq, why, ms));
      } catch (error) {
        failure = error as Error;
        return;
      }
      writeFileSync(join(queueDir, `chunk-${String(seq).padStart(6, '0')}.ok`), '');
      rmSync(file, { force: true });
      progress.uploaded(seq);
    }
  };
  const uploaders = Array.from({ length: options.uploads ?? 2 }, uploader);

  if (walking) {
    const chunksWritten = Math.max(-1, ...names.filter((n) => n.endsWith('.ok') || n.endsWith('.csv.gz')).map(seqOf)) + 1;
    try {
      state.totalChunks = await walkIntoChunks({
        root: state.root, queueDir, chunkRows: state.chunkRows, chunksWritten, counters,
        onChunk: (seq) => { queue.push(seq); progress.walked(counters.files, seq + 1); },
      });
    } finally {
      walking = false;
    }
    state.walked = true;
    saveState(queueDir, state);
  }
  await Promise.all(uploaders);
  if (failure) throw failure;
  const totalChunks = state.totalChunks ?? 0;
  progress.sealing(totalChunks);
  await sealScan(options.target, scan, totalChunks, options.retry);
  state.sealed = true;
  saveState(queueDir, state);
  const result: ScanAgentResult = { scanGuid: state.scanGuid, totalChunks, files: counters.files, warnings: counters.warnings };
  if (options.wait) result.status = await waitForScan(options.target, state.scanGuid, progress);
  progress.finish(result);
  return result;
}

async function waitForScan(target: ApiTarget, scanGuid: string, progress: Progress): Promise<string> {
  for (;;) {
    const status = await scanStatus(target, scanGuid);
    progress.ingesting(status);
    if (status.status !== 'RUNNING') return String(status.status);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
