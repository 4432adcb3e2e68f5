// Builds a Tier-1/Tier-2 pair for sanitize tests: a scan, tier objects in chosen
// states, and Tier-2 objects on disk, each category of reconciliation present once.
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pool } from 'pg';
import { objectKey, targetUri } from '../../lib/target-uri';

export interface TierFixture { shareName: string; tier2Root: string; rootUri: string; uris: Record<string, string>; scanId: number }

const DAY = 86_400;

export async function buildTierFixture(admin: Pool, tenantId: string, hostId: string): Promise<TierFixture> {
  const shareName = `share-${randomUUID().slice(0, 8)}`;
  const tier2Root = mkdtempSync(join(tmpdir(), 'strata-tier2-'));
  chmodSync(tier2Root, 0o755);
  const rootUri = pathToFileURL(tier2Root).href;
  const now = Math.floor(Date.now() / 1000);
  const uri = (name: string) => targetUri(rootUri, objectKey(shareName, ['projects', name]));
  const uris = { missing: uri('m.txt'), orphan: uri('orphan.bin'), stale: uri('warm.txt'), broken: uri('gone.txt'), healthy: uri('ok.txt') };
  const put = (target: string, bytes: number) => {
    const path = join(tier2Root, target.slice(rootUri.length + 1));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(bytes, 7));
  };
  put(uris.orphan, 300);
  put(uris.stale, 200);
  put(uris.broken, 400);
  put(uris.healthy, 500);

  await admin.query(`INSERT INTO tier_share_root (tenant_id, share_name, host_id, root_path, scan_path_prefix, updated_by) VALUES ($1, $2, $3, '/srv/share', '', 'test')`,
    [tenantId, shareName, hostId]);
  await admin.query(`INSERT INTO tier2_target (tenant_id, share_name, uri, updated_by) VALUES ($1, $2, $3, 'test')`, [tenantId, shareName, rootUri]);
  const scan = await admin.query(`INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at, finished_at, status)
    VALUES ($1, $2, $3, 'POSIX', now(), now(), 'OK') RETURNING id`, [tenantId, randomUUID(), shareName]);
  const scanId = scan.rows[0].id as number;
  const dir = await admin.query(`INSERT INTO dir (tenant_id, path_hash, dir_path) VALUES ($1, $2, '/projects') RETURNING id`,
    [tenantId, Math.floor(Math.random() * 1e12)]);
  const dirId = dir.rows[0].id as number;
  const files: [string, number, number][] = [['m.txt', 100, now - 900 * DAY], ['warm.txt', 200, now - DAY], ['ok.txt', 500, now - 900 * DAY]];
  for (const [name, size, atime] of files) {
    await admin.query(`INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix) VALUES ($1, $2, $3, $4, $5, $6, $6, $6)`,
      [tenantId, scanId, dirId, name, size, atime]);
  }
  const objects: [string, string, number, string][] = [['m.txt', 'STUBBED', 100, uris.missing], ['warm.txt', 'PLANNED', 200, uris.stale],
    ['gone.txt', 'PLANNED', 400, uris.broken], ['ok.txt', 'STUBBED', 500, uris.healthy]];
  for (const [name, state, size, target] of objects) {
    await admin.query(
      `INSERT INTO tier_object (tenant_id, share_name, full_path, rel_path, dir_id, name, target_uri, size_bytes, atime_unix, mtime_unix,
                                content_sha256, state, planned_by, acted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, 'test', CASE WHEN $10 = 'STUBBED' THEN now() END)`,
      [tenantId, shareName, `/${shareName}/projects/${name}`, `projects/${name}`, dirId, name, target, size, 'a'.repeat(64), state]);
  }
  return { shareName, tier2Root, rootUri, uris, scanId };
}
