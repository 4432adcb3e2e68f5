// Remediation apply under faults: an indexed tree with world-readable files and a
// named user is planned (before the fault), then executed; every entry must end
// either fully on the policy's target or, if the run rolled back, exactly as in
// the snapshot: never half-applied.
import { join } from 'node:path';
import { getfaclTree, indexVolume, planViaApi, waitForStatus, bearer } from '../../../test/support/remediation-fixtures';
import { check, eventually, persist, trialDir, call, type ChaosContext } from '../context';
import type { Scenario, Trial } from '../scenario';
import { buildAclTree } from './index';

const POLICY = { remove: ['other', 'user:1001'], add: [{ principal: 'group:3000', access: 'r' }] };

/** getfacl -R output as path -> ACL text. */
function aclsByPath(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of getfaclTree(root).split('\n\n')) {
    const lines = block.split('\n').filter(Boolean);
    const path = lines.find((line) => line.startsWith('# file: '))?.slice(8);
    if (path) out.set(path, lines.filter((line) => !line.startsWith('#')).join('\n'));
  }
  return out;
}

/** The policy holds for an entry: no access for others or uid 1001, group 3000 may read. */
function onTarget(acl: string): boolean {
  const lines = acl.split('\n');
  return lines.includes('other::---') && !lines.some((line) => line.startsWith('user:1001:')) && lines.some((line) => /^group:3000:r/.test(line));
}

type View = { status: string; statusReason: string | null; reportHash: string | null; counters: Record<string, number> };

export const remediationScenario: Scenario = {
  name: 'remediation apply',
  async prepare(context: ChaosContext): Promise<Trial> {
    const { tokens } = context.tenant;
    const root = join(trialDir(context, 'remediation'), 'vol');
    buildAclTree(root, 12, 30);
    await indexVolume(context.app, context.temporal, tokens.admin, context.stack.hostId, root);
    const before = aclsByPath(root);
    const id = await planViaApi(context.app, tokens.op, {
      scope: { host: context.stack.hostId, pathPrefix: root }, policy: POLICY,
      options: { batchSize: 60, parallelism: 2, heartbeatTimeoutSeconds: 5, rollbackWindowHours: 0, fsSnapshot: false, maxFilesPerSecond: 400 },
    });
    const planned = await waitForStatus(context.app, tokens.op, id, ['AWAITING_APPROVAL', 'FAILED']) as View;
    if (planned.status !== 'AWAITING_APPROVAL') throw new Error(`remediation plan ended ${planned.status}: ${planned.statusReason}`);
    const view = async (): Promise<View> => {
      const answer = await call(context, tokens.op, 'GET', `/remediation/${id}`);
      if (answer.statusCode !== 200) throw new Error(`GET remediation ${answer.statusCode}`);
      return answer.json();
    };
    let end: View | undefined;
    return {
      async drive() {
        const executed = await persist('execute', () => context.app.inject({
          method: 'POST', url: `/api/v1/remediation/${id}/execute`, headers: bearer(tokens.ap1), payload: { reportHash: planned.reportHash },
        }));
        // A retried execute whose first attempt landed is refused as a repeat; the run has then left AWAITING_APPROVAL.
        if (executed.statusCode !== 200 && (await view()).status === 'AWAITING_APPROVAL') throw new Error(`execute refused: ${executed.statusCode} ${executed.body}`);
        end = await eventually(`remediation ${id} to end`, async () => {
          const run = await view();
          return ['COMPLETED', 'FAILED', 'ROLLED_BACK'].includes(run.status) ? run : undefined;
        });
      },
      async verify() {
        const violations: string[] = [];
        check(violations, end?.status === 'COMPLETED', `remediation ended ${end?.status}: ${end?.statusReason}`);
        const after = aclsByPath(root);
        let target = 0;
        let original = 0;
        for (const [path, acl] of after) {
          if (onTarget(acl)) target += 1;
          else if (acl === before.get(path)) original += 1;
          else violations.push(`${path} is half-applied: ${acl.replace(/\n/g, ',')} (before ${before.get(path)?.replace(/\n/g, ',')})`);
        }
        if (end?.status === 'COMPLETED') check(violations, target === after.size, `${original} of ${after.size} entries still as before after COMPLETED`);
        if (end?.status === 'ROLLED_BACK') check(violations, original === after.size, `${target} entries on target after ROLLED_BACK`);
        const counters = end?.counters ?? {};
        check(violations, counters.failed === 0 && counters.pending === 0, `counters ${JSON.stringify(counters)}`);
        // Every item's snapshot saved exactly once: slices cover the items without overlapping.
        const snapshots = await context.admin.query(
          `SELECT (SELECT coalesce(sum(items), 0)::int FROM remediation_snapshot_slice WHERE run_id = $1) AS n,
                  (SELECT count(*)::int FROM remediation_item WHERE run_id = $1) AS items,
                  (SELECT count(*)::int FROM remediation_snapshot_slice a JOIN remediation_snapshot_slice b ON b.run_id = a.run_id
                     AND b.first_item > a.first_item AND b.first_item <= a.last_item WHERE a.run_id = $1) AS overlaps`, [id]);
        const saved = snapshots.rows[0];
        check(violations, saved.overlaps === 0 && saved.n === saved.items, `${saved.n} snapshots for ${saved.items} items, ${saved.overlaps} overlapping slices`);
        // The index follows the files: every item's row names the descriptor its file ended on.
        const expected = end?.status === 'ROLLED_BACK' ? 'i.source_sd_id' : 'i.target_sd_id';
        const stale = await context.admin.query(
          `SELECT count(*)::int AS n FROM remediation_item i JOIN file f ON f.id = i.file_id WHERE i.run_id = $1 AND f.security_id IS DISTINCT FROM ${expected}`, [id]);
        check(violations, stale.rows[0].n === 0, `${stale.rows[0].n} index rows not on the descriptor their file ended on`);
        return violations.slice(0, 8);
      },
    };
  },
};
