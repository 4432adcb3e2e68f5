// strata scans status: progress of a scan's ingestion, optionally until it ends.
import { emit, exitFor, waitFor, WAIT_OPTIONS, type Command } from '../command';
import { bytes, keyValues, progressBar } from '../format';

interface ScanProgress {
  scanGuid: string; shareName: string | null; status: string; phase: string; reason: string | null; sealed: boolean; totalChunks: number | null;
  chunksReceived: number; chunksIngested: number; chunksFailed: number; rowsIngested: number; bytesIngested: number; rowsPerSecond: number;
  startedAt: string | null; finishedAt: string | null; errors: string[];
}

export function scanLine(scan: ScanProgress): string {
  const total = scan.sealed ? scan.totalChunks : null;
  return `${scan.status.padEnd(7)} ${progressBar(scan.chunksIngested, total)} chunks  ${scan.rowsIngested} rows  ${Math.round(scan.rowsPerSecond)} rows/s${scan.sealed ? '' : '  (not sealed)'}`;
}

export const scanCommands: Command[] = [
  {
    group: 'scans', action: 'status', usage: '<scan-guid> [--wait [--interval <seconds>]]', positionals: [1, 1],
    summary: "a scan's ingestion progress; --wait follows it to the end (exit 5 if it ends in ERROR)",
    options: WAIT_OPTIONS,
    async run(context) {
      const path = `/scans/${encodeURIComponent(context.positionals[0])}`;
      const poll = () => context.api.json<ScanProgress>('GET', path);
      const scan = context.values.wait ? await waitFor(context, poll, (s) => s.status !== 'RUNNING', scanLine) : await poll();
      emit(context, scan, () => keyValues([
        ['scan', scan.scanGuid], ['share', scan.shareName], ['status', scan.status], ['phase', scan.phase], ['reason', scan.reason],
        ['chunks', progressBar(scan.chunksIngested, scan.sealed ? scan.totalChunks : null)], ['chunks received', scan.chunksReceived],
        ['chunks failed', scan.chunksFailed], ['rows', scan.rowsIngested], ['bytes', bytes(scan.bytesIngested)],
        ['started', scan.startedAt], ['finished', scan.finishedAt], ...scan.errors.map((error): [string, string] => ['error', error]),
      ]));
      return context.values.wait ? exitFor(scan.status, ['ERROR']) : undefined;
    },
  },
];
