// CPU seconds used by the processes of one benchmark run (Linux /proc): the named
// processes (api and worker children, or the benchmark itself), the Temporal server,
// and every Postgres process of the cluster including backends that have already
// exited (counted in the postmaster's children times), and a peer tool run as a
// child. Wall time on a shared machine is noisy; CPU per row is not.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Client } from 'pg';

const TICKS = 100;

function stat(pid: number): string[] | undefined {
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); } catch { return undefined; }
}

/** utime + stime (+ cutime + cstime of waited-for children when `withChildren`). */
export function cpuOf(pid: number, withChildren = false): number {
  const fields = stat(pid);
  if (!fields) return 0;
  const own = Number(fields[11]) + Number(fields[12]);
  return (withChildren ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS;
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => Number(stat(pid)?.[1]) === parent);
}

function temporalPid(port: string): number | undefined {
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('temporal') && cmd.includes('start-dev') && cmd.includes(port)) return Number(name);
    } catch { /* gone */ }
  }
  return undefined;
}

/** CPU seconds of this process's children that have exited and been waited for (e.g. after spawnSync). */
export function childrenCpuSeconds(): number {
  return cpuOf(process.pid, true) - cpuOf(process.pid);
}

export interface CpuProbe { sample(): Promise<Record<string, number>> }

export async function cpuProbe(adminUrl: string, temporalAddress: string, children: Record<string, number | undefined>): Promise<CpuProbe> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  const postmaster = Number(stat(backend)?.[1]);
  await client.end();
  const temporal = temporalPid(temporalAddress.split(':').pop() ?? '');
  return {
    async sample() {
      const postgres = cpuOf(postmaster, true) + childrenOf(postmaster).reduce((sum, pid) => sum + cpuOf(pid), 0);
      const result: Record<string, number> = { postgres, temporal: temporal ? cpuOf(temporal) : 0 };
      for (const [name, pid] of Object.entries(children)) result[name] = pid ? cpuOf(pid) : 0;
      return result;
    },
  };
}

export function cpuDelta(before: Record<string, number>, after: Record<string, number>): string {
  const parts = Object.keys(after).map((name) => `${name} ${(after[name] - (before[name] ?? 0)).toFixed(1)}`);
  const total = Object.keys(after).reduce((sum, name) => sum + after[name] - (before[name] ?? 0), 0);
  return `cpu ${total.toFixed(1)} s (${parts.join(', ')})`;
}

export function cpuSeconds(before: Record<string, number>, after: Record<string, number>): number {
  return Object.keys(after).reduce((sum, name) => sum + after[name] - (before[name] ?? 0), 0);
}

/**
 * The highest ratio strata could reach with the CPU it used: its work spread perfectly over
 * every core, against the peer's wall time. A ratio target above this bound cannot be met
 * without using less CPU, whatever the scheduling.
 */
export function cpuBoundLine(strataCpu: number, peerWallSeconds: number): string {
  const cores = availableParallelism();
  const bound = peerWallSeconds / (strataCpu / cores);
  return `on ${cores} cores that CPU allows a ratio of at most ${bound.toFixed(2)} (the peer's ${peerWallSeconds.toFixed(2)} s over ${strataCpu.toFixed(2)} CPU-s / ${cores})`;
}
