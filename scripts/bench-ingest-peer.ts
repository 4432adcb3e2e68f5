// The peer of the ingest benchmark: the plain psql pipeline of seed 000 §6.3 into a
// second database of the same schema on the same Postgres: \copy into staging,
// ANALYZE, INSERT..SELECT DISTINCT the new dirs, INSERT..SELECT the files JOIN dir
// ON CONFLICT DO NOTHING. Run as the superuser, as an operator would by hand.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { runMigrations } from './stack/stack';

const TENANT = '00000000-0000-4000-8000-00000000beef';

export interface PeerRun { rows: number; seconds: number; fileRows: number }

export async function preparePeerDatabase(adminUrl: string, database = 'strata_peer'): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  await runMigrations({ ...process.env, DATABASE_URL: url.toString() });
  await withClient(url.toString(), async (client) => {
    await client.query(`INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, 'peer', 'Peer', 'none', 'vault:v1:none')`, [TENANT]);
  });
  return url.toString();
}

/** Loads one CSV the plain way into a new scan; returns the wall time of the psql run. */
export async function runPeer(peerUrl: string, csvPath: string, rows: number, workDir: string): Promise<PeerRun> {
  const scanId = await withClient(peerUrl, async (client) => {
    const scan = await client.query(
      `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at) VALUES ($1, gen_random_uuid(), 'bench', 'NTFS', now()) RETURNING id`, [TENANT]);
    const id = scan.rows[0].id as number;
    await client.query('TRUNCATE staging_file');
    await client.query(`ALTER TABLE staging_file ALTER tenant_id SET DEFAULT '${TENANT}', ALTER scan_id SET DEFAULT ${Number(id)}, ALTER seq SET DEFAULT 0`);
    await client.query('CHECKPOINT');
    return id;
  });
  const script = join(workDir, 'peer.sql');
  writeFileSync(script, [
    '\\set ON_ERROR_STOP on',
    `\\copy staging_file (dir_path, name, size_bytes, atime_unix, mtime_unix, ctime_unix) FROM '${csvPath.replace(/'/g, "''")}' WITH (FORMAT csv)`,
    'ANALYZE staging_file;',
    `INSERT INTO dir (tenant_id, path_hash, dir_path)
       SELECT DISTINCT s.tenant_id, dir_path_hash(s.dir_path), s.dir_path FROM staging_file s
         LEFT JOIN dir d ON d.tenant_id = s.tenant_id AND d.path_hash = dir_path_hash(s.dir_path) AND d.dir_path = s.dir_path
        WHERE d.id IS NULL;`,
    `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix)
       SELECT s.tenant_id, s.scan_id, d.id, s.name, s.size_bytes, s.atime_unix, s.mtime_unix, s.ctime_unix FROM staging_file s
         JOIN dir d ON d.tenant_id = s.tenant_id AND d.path_hash = dir_path_hash(s.dir_path) AND d.dir_path = s.dir_path
       ON CONFLICT (scan_id, dir_id, name) DO NOTHING;`,
    '',
  ].join('\n'));
  const started = process.hrtime.bigint();
  const result = spawnSync('psql', [peerUrl, '-q', '-f', script], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) throw new Error(`psql could not run (${result.error.message}); install the postgresql-client package`);
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  const fileRows = await withClient(peerUrl, async (client) =>
    (await client.query('SELECT count(*)::int AS n FROM file WHERE scan_id = $1', [scanId])).rows[0].n as number);
  return { rows, seconds, fileRows };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try { return await work(client); } finally { await client.end(); }
}
