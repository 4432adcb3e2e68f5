// The load test's clients: agents that upload CSV chunks of their own scan as fast
// as the api takes them (honouring 429 Retry-After, re-sending some chunks to check
// idempotence), and a prober timing /healthz, each recording what it saw.
import { Agent, request } from 'node:http';

export interface LoadTarget { api: string; token: string; tenantCode: string }
export interface AgentPlan { id: number; target: LoadTarget; scanGuid: string; rowsPerChunk: number; deadline: number; resendEvery: number }

export interface AgentTally {
  accepted: number; rows: number; duplicates: number; resends: number; resendsNotDuplicate: number;
  limited: Record<string, number>; errors: Record<string, number>; latenciesMs: number[];
}

const http = new Agent({ keepAlive: true, maxSockets: 512 });

export interface Reply { status: number; body: string; retryAfter?: number; ms: number }

export function call(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, agent: http }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const retryAfter = Number(res.headers['retry-after']);
        resolve({
          status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), ms: Number(process.hrtime.bigint() - started) / 1e6,
          retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Rows of chunk `seq` of agent `agent`: unique paths, so every row is a new file row. */
export function chunkCsv(agent: number, seq: number, rows: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    lines.push(`C:\\load\\agent${agent}\\chunk${seq}\\d${i % 10},file-${i}.dat,${i * 7},1700000000,1690000000,1690000000`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

export function scanHeaders(plan: AgentPlan): Record<string, string> {
  return {
    authorization: `Bearer ${plan.target.token}`, 'x-tenant-code': plan.target.tenantCode, 'content-type': 'text/csv',
    'x-share-name': `load-${plan.id}`, 'x-source-type': 'NTFS', 'x-scan-started': '2026-01-01T00:00:00Z',
  };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function limitOf(body: string): string {
  try { return String(JSON.parse(body).errors?.[0]?.field ?? 'unknown').replace(/^limits\./, ''); } catch { return 'unknown'; }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same chunk again (waiting out 429s): its final status, 200 when recognised as a duplicate. */
async function resend(url: string, headers: Record<string, string>, body: Buffer, giveUpAt: number): Promise<number | undefined> {
  for (;;) {
    const again = await call(url, 'PUT', headers, body).catch(() => undefined);
    if (again?.status !== 429 || Date.now() > giveUpAt) return again?.status;
    await sleep((again.retryAfter ?? 1) * 1000);
  }
}

/** Uploads chunk after chunk until the deadline; seq only advances on a 202, so the accepted seqs are 0..accepted-1. */
export async function runAgent(plan: AgentPlan): Promise<AgentTally> {
  const tally: AgentTally = { accepted: 0, rows: 0, duplicates: 0, resends: 0, resendsNotDuplicate: 0, limited: {}, errors: {}, latenciesMs: [] };
  const headers = scanHeaders(plan);
  const url = (seq: number) => `${plan.target.api}/api/v1/scans/${plan.scanGuid}/chunks/${seq}`;
  let body = chunkCsv(plan.id, 0, plan.rowsPerChunk);
  while (Date.now() < plan.deadline) {
    const seq = tally.accepted;
    let reply: Reply;
    try {
      reply = await call(url(seq), 'PUT', headers, body);
    } catch (error) {
      bump(tally.errors, (error as NodeJS.ErrnoException).code ?? 'network');
      await sleep(500);
      continue;
    }
    if (reply.status === 202) {
      tally.latenciesMs.push(reply.ms);
      tally.accepted += 1;
      tally.rows += plan.rowsPerChunk;
      if (plan.resendEvery > 0 && tally.accepted % plan.resendEvery === 0) {
        tally.resends += 1;
        if ((await resend(url(seq), headers, body, plan.deadline + 60_000)) !== 200) tally.resendsNotDuplicate += 1;
      }
      body = chunkCsv(plan.id, tally.accepted, plan.rowsPerChunk);
    } else if (reply.status === 200) {
      // The chunk was already taken (a lost answer): it counts once.
      tally.duplicates += 1;
      tally.accepted += 1;
      tally.rows += plan.rowsPerChunk;
      body = chunkCsv(plan.id, tally.accepted, plan.rowsPerChunk);
    } else if (reply.status === 429) {
      bump(tally.limited, limitOf(reply.body));
      await sleep(Math.max(100, (reply.retryAfter ?? 1) * 1000 * (0.5 + Math.random() / 2)));
    } else {
      bump(tally.errors, `HTTP ${reply.status}`);
      await sleep(reply.status === 503 ? (reply.retryAfter ?? 1) * 1000 : 500);
    }
  }
  return tally;
}

/** Times GET /healthz every interval until the deadline. */
export async function probeHealth(api: string, deadline: number, everyMs: number): Promise<{ latenciesMs: number[]; failures: number }> {
  const latenciesMs: number[] = [];
  let failures = 0;
  while (Date.now() < deadline) {
    const reply = await call(`${api}/healthz`, 'GET', {}).catch(() => undefined);
    if (reply?.status === 200) latenciesMs.push(reply.ms); else failures += 1;
    await sleep(everyMs);
  }
  return { latenciesMs, failures };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}
