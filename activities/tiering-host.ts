// Tiering activities of the host worker that owns a share's disks: preflight, act
// and rehydrate batches, and the verification sample. The target's credentials are
// opened here, in memory, and never returned, logged or put in a payload.
import { rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { withTenant } from '../db/tenant-tx';
import { getActorShareConfig } from '../db/queries/tiering-config';
import * as tiering from '../db/queries/tiering';
import { keyOfUri } from '../lib/target-uri';
import { openCredentials } from '../lib/tier2-credentials';
import { openTier2Target, type Durability } from '../lib/tier2-target';
import { InvalidInputError, NotFoundError } from './errors';
import { fsetxattr } from './ffi';
import type { HostDeps } from './host';
import { actWave, localPath, type WaveContext } from './tiering-act';
import { arrayFeed, PagedFeed } from './tiering-feed';
import { runWaves, type BatchResult, type WaveLimits } from './tiering-waves';
import { rehydrateWave } from './tiering-rehydrate';
import { withActionLock } from './tiering-lock';
import { poolFsOps, tieringPool } from './tiering-pool';

export interface ShareInput { tenantId: string; tenantCode: string; shareName: string }
export interface ActBatchInput extends ShareInput, WaveLimits { planId: string; actionId: string; actor: string; limit: number }
export interface RehydrateBatchInput extends ShareInput, WaveLimits { actionId: string; actor: string; limit: number }

/** Rows an act batch loads at a time, the next page while the current one's waves run. */
const FEED_PAGE = 2500;

export function durabilityFromEnv(env: NodeJS.ProcessEnv = process.env): Durability {
  return env.STRATA_TIER_DURABILITY === 'fsync' ? 'fsync' : 'syncfs';
}

export function createTieringHostActivities(deps: HostDeps) {
  const asActor = <T>(tenantId: string, work: Parameters<typeof withTenant<T>>[2]) => withTenant(deps.pool, { tenantId, role: 'strata_actor' }, work);

  async function openShare(input: ShareInput): Promise<WaveContext> {
    const config = await asActor(input.tenantId, (client) => getActorShareConfig(client, input.tenantId, input.shareName));
    if (!config) throw new NotFoundError(`share ${input.shareName} has no tiering source root and target`);
    if (config.hostId !== deps.hostId) throw new InvalidInputError(`share ${input.shareName} is on host ${config.hostId}, not on ${deps.hostId}`);
    const credentials = config.sealedCredentials
      ? openCredentials(await deps.dataKeys.dataKey(input.tenantCode, config.encryptedDek), input.tenantId, input.shareName, config.sealedCredentials)
      : null;
    const pool = tieringPool();
    const ops = poolFsOps(pool);
    const durability = durabilityFromEnv();
    return { pool, ops, durability, root: config.rootPath, target: openTier2Target(config.targetUri, { credentials, fsOps: ops, durability }) };
  }

  return {
    /** Whether a run can start: the source root takes user xattrs, the target is writable and has room. */
    async tieringPreflight(input: ShareInput & { neededBytes: number }): Promise<{ ok: boolean; problems: string[]; freeBytes: number | null }> {
      const share = await openShare(input);
      const problems: string[] = [];
      const root = await stat(share.root).catch(() => null);
      if (!root?.isDirectory()) problems.push(`source root ${share.root} is not a directory on host ${deps.hostId}`);
      else await probeXattrs(share.root).catch((error: Error) => problems.push(`source root ${share.root} cannot hold stub xattrs: ${error.message}`));
      const probe = await share.target.probe();
      if (!probe.writable) problems.push(`Tier-2 target ${share.target.rootUri} is not writable: ${probe.detail ?? 'unknown'}`);
      else if (probe.freeBytes !== null && probe.freeBytes < input.neededBytes) {
        problems.push(`Tier-2 target has ${probe.freeBytes} bytes free, the plan needs ${input.neededBytes}`);
      }
      return { ok: problems.length === 0, problems, freeBytes: probe.freeBytes };
    },

    async tieringActBatch(input: ActBatchInput): Promise<BatchResult> {
      const share = await openShare(input);
      return withActionLock(deps.pool, input.actionId, async () => {
        const cursor = await asActor(input.tenantId, async (client) => {
          const summary = (await client.query('SELECT summary FROM action WHERE id = $1', [input.actionId])).rows[0]?.summary;
          return Number(summary?.cursor ?? 0);
        });
        const feed = new PagedFeed((afterId, limit) => asActor(input.tenantId, (client) =>
          tiering.selectActBatch(client, input.planId, input.actionId, afterId, limit)), input.limit, FEED_PAGE, cursor);
        return runWaves(feed, input, (wave) => actWave(share, wave), (outcomes, lastId) => asActor(input.tenantId, (client) =>
          tiering.persistActWave(client, input.tenantId, input.actionId, input.actor, outcomes, lastId)));
      });
    },

    async tieringRehydrateBatch(input: RehydrateBatchInput): Promise<BatchResult> {
      const share = await openShare(input);
      return withActionLock(deps.pool, input.actionId, async () => {
        const rows = await asActor(input.tenantId, (client) => tiering.selectRehydrateBatch(client, input.actionId, input.shareName, input.limit));
        return runWaves(arrayFeed(rows), input, (wave) => rehydrateWave(share, wave), (outcomes) => asActor(input.tenantId, (client) =>
          tiering.persistRehydrateWave(client, input.tenantId, input.actionId, input.actor, outcomes)));
      });
    },

    /** Re-checks a random sample of what an action stubbed: stub xattrs match the row, the copy matches the hash. */
    async tieringVerifySample(input: ShareInput & { actionId: string; sample: number }): Promise<{ checked: number; problems: { path: string; problem: string }[] }> {
      const share = await openShare(input);
      const rows = await asActor(input.tenantId, (client) => tiering.sampleStubbed(client, input.actionId, input.sample));
      const stubs = await share.pool.run('readStubs', rows.map((row) => localPath(share.root, row.relPath)));
      const problems: { path: string; problem: string }[] = [];
      const verdicts = await share.target.verify(rows.map((row) => ({
        key: keyOfUri(share.target.rootUri, row.targetUri) ?? row.targetUri, expected: { size: row.size, sha256: row.sha256 ?? '' },
      })));
      rows.forEach((row, i) => {
        const stub = stubs[i];
        if (stub === null) problems.push({ path: row.fullPath, problem: 'no stub at the source path' });
        else if ('error' in stub) problems.push({ path: row.fullPath, problem: stub.error });
        else if (stub.sha256 !== row.sha256 || stub.uri !== row.targetUri) problems.push({ path: row.fullPath, problem: 'stub xattrs do not match the database' });
        if (verdicts[i] !== 'ok') problems.push({ path: row.fullPath, problem: `Tier-2 copy is ${verdicts[i]}` });
      });
      return { checked: rows.length, problems };
    },
  };
}

async function probeXattrs(root: string): Promise<void> {
  const probe = `${root}/.strata-preflight~tmp`;
  const handle = await open(probe, 'w', 0o600);
  try {
    fsetxattr(handle.fd, 'user.strata.probe', Buffer.from('1'));
  } finally {
    await handle.close();
    rmSync(probe, { force: true });
  }
}

export type TieringHostActivities = ReturnType<typeof createTieringHostActivities>;
