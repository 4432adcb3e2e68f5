// Load test: many agents at once against a stack this script starts (Postgres,
// Temporal, Vault, the api and a central worker as their own processes), for a
// bounded time. Each agent uploads CSV chunks of its own scan; one tenant has low
// limits so 429s show up. Afterwards every scan is sealed and drained, and the
// database is compared with what was sent: no chunk lost, none ingested twice.
// `npm run load -- [--seconds 120] [--agents 50] [--tenants 5] [--rows 1000] [--limited-agents 5] [--drain-seconds 600]`
// The last line printed is one JSON object.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { issueToken } from '../lib/tokens';
import { startStack } from './stack/stack';
import { startChild, stopChildren, waitForApi } from './stack/children';
import { call, percentile, probeHealth, runAgent, type AgentPlan, type AgentTally, type LoadTarget } from './load-agents';

interface Options { seconds: number; agents: number; tenants: number; rows: number; limitedAgents: number; drainSeconds: number; resendEvery: number }

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : fallback; };
  return {
    seconds: value('seconds', 120), agents: value('agents', 50), tenants: value('tenants', 5), rows: value('rows', 1000),
    limitedAgents: value('limited-agents', 5), drainSeconds: value('drain-seconds', 600), resendEvery: value('resend-every', 10),
  };
}

/** A tenant made directly in the database (no Vault key needed to ingest), with an agent token and optional limits. */
async function createTenant(db: Client, label: string, limits?: { rps: number; burst: number; uploads: number }): Promise<{ tenantId: string; code: string; token: string }> {
  const tenantId = randomUUID();
  const code = `load-${label}-${tenantId.slice(0, 6)}`;
  const token = issueToken();
  await db.query(`INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'Load', 'none', 'vault:v1:load')`, [tenantId, code]);
  const user = await db.query(`INSERT INTO app_user (tenant_id, name, role) VALUES ($1, 'load-agent', 'agent') RETURNING id`, [tenantId]);
  await db.query(`INSERT INTO api_token (id, tenant_id, user_id, token_hash, label) VALUES ($1, $2, $3, $4, 'load')`, [token.id, tenantId, user.rows[0].id, token.hash]);
  if (limits) {
    await db.query(`INSERT INTO tenant_limits (tenant_id, requests_per_second, burst, max_concurrent_uploads, updated_by) VALUES ($1, $2, $3, $4, 'load-test')`,
      [tenantId, limits.rps, limits.burst, limits.uploads]);
  }
  return { tenantId, code, token: token.token };
}

interface ScanCheck { scanGuid: string; status: string | null; chunks: number; chunkRows: number; fileRows: number }

async function checkScans(db: Client, guids: string[]): Promise<Map<string, ScanCheck>> {
  const result = await db.query(
    `SELECT s.scan_guid AS "scanGuid", s.status,
            (SELECT count(*) FROM ingest_chunk c WHERE c.scan_id = s.id)::int AS chunks,
            (SELECT coalesce(sum(row_count), 0) FROM ingest_chunk c WHERE c.scan_id = s.id)::bigint AS "chunkRows",
            (SELECT count(*) FROM file f WHERE f.scan_id = s.id)::int AS "fileRows"
       FROM scan s WHERE s.scan_guid = ANY($1::uuid[])`, [guids]);
  return new Map(result.rows.map((row) => [row.scanGuid, { ...row, chunkRows: Number(row.chunkRows) }]));
}

function merge(tallies: AgentTally[]): { accepted: number; rows: number; duplicates: number; resends: number; resendsNotDuplicate: number; limited: Record<string, number>; errors: Record<string, number>; latencies: number[] } {
  const limited: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const tally of tallies) {
    for (const [key, n] of Object.entries(tally.limited)) limited[key] = (limited[key] ?? 0) + n;
    for (const [key, n] of Object.entries(tally.errors)) errors[key] = (errors[key] ?? 0) + n;
  }
  const sum = (pick: (t: AgentTally) => number) => tallies.reduce((total, t) => total + pick(t), 0);
  return {
    accepted: sum((t) => t.accepted), rows: sum((t) => t.rows), duplicates: sum((t) => t.duplicates), resends: sum((t) => t.resends),
    resendsNotDuplicate: sum((t) => t.resendsNotDuplicate), limited, errors, latencies: tallies.flatMap((t) => t.latenciesMs),
  };
}

async function drain(db: Client, plans: AgentPlan[], tallies: AgentTally[], deadline: number): Promise<{ checks: Map<string, ScanCheck>; lastIngestAt: Date | null }> {
  for (const [i, plan] of plans.entries()) {
    const body = Buffer.from(JSON.stringify({ totalChunks: tallies[i].accepted }));
    const headers = { authorization: `Bearer ${plan.target.token}`, 'content-type': 'application/json', 'x-tenant-code': plan.target.tenantCode };
    for (let attempt = 0; attempt < 20; attempt++) {
      const reply = await call(`${plan.target.api}/api/v1/scans/${plan.scanGuid}/seal`, 'POST', headers, body).catch(() => undefined);
      if (reply && reply.status < 300) break;
      await new Promise((resolve) => setTimeout(resolve, (reply?.retryAfter ?? 1) * 1000));
    }
  }
  const guids = plans.map((plan) => plan.scanGuid);
  for (;;) {
    const checks = await checkScans(db, guids);
    const open = [...checks.values()].filter((c) => c.status === 'RUNNING').length + guids.length - checks.size;
    if (open === 0 || Date.now() > deadline) {
      const last = await db.query(`SELECT max(c.ingested_at) AS at FROM ingest_chunk c JOIN scan s ON s.id = c.scan_id WHERE s.scan_guid = ANY($1::uuid[])`, [guids]);
      return { checks, lastIngestAt: last.rows[0].at };
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const stack = await startStack('test', { ...process.env, STRATA_TEST_SLOT: process.env.STRATA_TEST_SLOT ?? '5' });
  const env = { ...process.env, ...stack.env, LOG_LEVEL: 'warn', STRATA_PG_POOL: '30' };
  const children = [startChild('api', 'api/server.js', env), startChild('worker', 'workers/central.js', env)];
  const db = new Client({ connectionString: stack.env.DATABASE_URL });
  await db.connect();
  try {
    const api = `http://127.0.0.1:${stack.env.STRATA_API_PORT}`;
    await waitForApi(api);
    const tenants: LoadTarget[] = [];
    for (let t = 0; t < options.tenants; t++) {
      const tenant = await createTenant(db, `t${t}`);
      tenants.push({ api, token: tenant.token, tenantCode: tenant.code });
    }
    const limited = await createTenant(db, 'limited', { rps: 5, burst: 5, uploads: 2 });
    const limitedTarget: LoadTarget = { api, token: limited.token, tenantCode: limited.code };
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    const plans: AgentPlan[] = Array.from({ length: options.agents }, (_v, id) => ({
      id, scanGuid: randomUUID(), rowsPerChunk: options.rows, deadline, resendEvery: options.resendEvery,
      target: id < options.limitedAgents ? limitedTarget : tenants[id % tenants.length],
    }));
    console.log(`load: ${options.agents} agents (${options.limitedAgents} on a tenant limited to 5 requests/s and 2 uploads at once), ${options.tenants} tenants, ${options.rows} rows per chunk, ${options.seconds} s`);
    const [tallies, health] = await Promise.all([Promise.all(plans.map(runAgent)), probeHealth(api, deadline, 250)]);
    const uploadSeconds = (Date.now() - started) / 1000;
    const sent = merge(tallies);
    const during = await db.query(`SELECT coalesce(sum(row_count), 0)::bigint AS rows FROM ingest_chunk WHERE ingested_at >= to_timestamp($1 / 1000.0) AND ingested_at < to_timestamp($2 / 1000.0)`, [started, deadline]);
    console.log(`uploads done: ${sent.accepted} chunks accepted in ${uploadSeconds.toFixed(0)} s; sealing and draining`);
    const { checks, lastIngestAt } = await drain(db, plans, tallies, Date.now() + options.drainSeconds * 1000);

    let lost = 0; let twice = 0; let notOk = 0; let rowsInDb = 0;
    for (const [i, plan] of plans.entries()) {
      const check = checks.get(plan.scanGuid);
      const expected = tallies[i].accepted;
      const chunks = check?.chunks ?? 0;
      if (chunks < expected) lost += expected - chunks;
      if (chunks > expected || (check && check.fileRows > tallies[i].rows)) twice += Math.max(1, chunks - expected);
      if (check?.status !== 'OK') notOk += 1;
      rowsInDb += check?.fileRows ?? 0;
    }
    const ingestMinutes = lastIngestAt ? (lastIngestAt.getTime() - started) / 60_000 : NaN;
    const result = {
      agents: options.agents, tenants: options.tenants + 1, seconds: Math.round(uploadSeconds), rows_per_chunk: options.rows,
      chunks_accepted: sent.accepted, chunks_per_s: Math.round((sent.accepted / uploadSeconds) * 10) / 10,
      upload_p50_ms: percentile(sent.latencies, 50), upload_p99_ms: percentile(sent.latencies, 99),
      rows_sent: sent.rows, rows_in_db: rowsInDb, rows_per_min_during_load: Math.round(Number(during.rows[0].rows) / (options.seconds / 60)),
      rows_per_min_to_drain: Math.round(rowsInDb / ingestMinutes), lost_chunks: lost, chunks_ingested_twice: twice, scans_not_ok: notOk,
      resends: sent.resends, resends_not_answered_duplicate: sent.resendsNotDuplicate, duplicates_answered: sent.duplicates,
      healthz_p50_ms: percentile(health.latenciesMs, 50), healthz_p99_ms: percentile(health.latenciesMs, 99),
      healthz_max_ms: percentile(health.latenciesMs, 100), healthz_failures: health.failures,
      http_429: sent.limited, errors: sent.errors,
    };
    console.log(`chunks/s ${result.chunks_per_s}, upload p50 ${result.upload_p50_ms} ms p99 ${result.upload_p99_ms} ms; rows/min during load ${result.rows_per_min_during_load}, to drain ${result.rows_per_min_to_drain}`);
    console.log(`lost ${lost}, ingested twice ${twice}, scans not OK ${notOk}; /healthz p50 ${result.healthz_p50_ms} ms p99 ${result.healthz_p99_ms} ms max ${result.healthz_max_ms} ms, ${health.failures} failed; 429s ${JSON.stringify(sent.limited)}; errors ${JSON.stringify(sent.errors)}`);
    console.log(JSON.stringify({ load: result }));
    if (lost > 0 || twice > 0 || notOk > 0) process.exitCode = 1;
  } finally {
    await db.end();
    await stopChildren(children);
    await stack.stop();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
