// Tiering act under faults: a real tree of idle files is planned, then acted on;
// the run must complete with every file a verified stub whose Tier-2 copy holds its
// content, one tier_object row each, and no temp file left behind.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  assertNothingLost, buildTree, configureShare, loadScan, planShare, scanRowsOf, startRun, tierRows, type Roots, type TreeFile,
} from '../../../test/support/tiering-tree';
import { check, trialDir, workflowOutcome, type ChaosContext } from '../context';
import type { Scenario, Trial } from '../scenario';

const FILES = 240;

function rootsIn(base: string): Roots {
  const roots = { base, source: join(base, 'share'), target: join(base, 'tier2'), targetUri: '' };
  mkdirSync(roots.source);
  mkdirSync(roots.target);
  return { ...roots, targetUri: pathToFileURL(roots.target).href };
}

function leftovers(roots: Roots): string[] {
  const all = [...readdirSync(roots.source, { recursive: true }), ...readdirSync(roots.target, { recursive: true })].map(String);
  return all.filter((name) => name.includes('strata-stub~tmp') || name.includes('strata-restore~tmp') || name.endsWith('~strata-part'));
}

function tier2Files(roots: Roots): number {
  return readdirSync(roots.target, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
}

export const tieringScenario: Scenario = {
  name: 'tiering act',
  async prepare(context: ChaosContext): Promise<Trial> {
    const base = trialDir(context, 'tier');
    const share = `tier-${base.slice(-12).replace(/[^a-z0-9-]/g, '')}`;
    const roots = rootsIn(base);
    const files: TreeFile[] = Array.from({ length: FILES }, (_v, i) => ({
      relPath: `d${i % 6}/sub ${i % 4}/file-${i}.bin`, size: 1 + ((i * 7919) % 40_000), idleDays: 400 + (i % 90),
    }));
    buildTree(roots.source, files);
    const token = context.tenant.tokens.admin;
    await loadScan(context.pool, context.tenant.tenantId, share, scanRowsOf(roots.source, files));
    await configureShare(context.app, token, share, { hostId: context.stack.hostId, roots });
    const { planId } = await planShare(context.app, context.temporal, token, share);
    const run = await startRun(context.app, token, `/api/v1/tiering/plans/${planId}/act`,
      { options: { heartbeatTimeoutSeconds: 5, waveSize: 16, batchSize: 60 } });
    let result: { status?: string; summary?: Record<string, unknown> } = {};
    return {
      async drive() {
        result = await workflowOutcome(context, run.workflowId);
      },
      async verify() {
        const violations: string[] = [];
        check(violations, result.status === 'completed', `act ended ${result.status} (${JSON.stringify(result.summary)})`);
        check(violations, result.summary?.stubbed === FILES && result.summary?.failed === 0,
          `act summary ${JSON.stringify(result.summary)}, expected ${FILES} stubbed, 0 failed`);
        try {
          const intact = assertNothingLost(roots, files);
          check(violations, intact.stubs === FILES, `${intact.stubs} stubs and ${intact.originals} originals, expected ${FILES} stubs`);
        } catch (error) {
          violations.push(`file lost: ${(error as Error).message}`);
        }
        const rows = await tierRows(context.admin, context.tenant.tenantId, 'share_name = $2', [share]);
        check(violations, rows.length === FILES, `${rows.length} tier_object rows, expected ${FILES}`);
        check(violations, rows.every((row) => row.state === 'STUBBED'), `tier_object states: ${[...new Set(rows.map((r) => r.state))].join(', ')}`);
        check(violations, leftovers(roots).length === 0, `temp files left: ${leftovers(roots).slice(0, 3).join(', ')}`);
        check(violations, tier2Files(roots) === FILES, `${tier2Files(roots)} files on Tier-2, expected ${FILES}`);
        return violations;
      },
    };
  },
};
