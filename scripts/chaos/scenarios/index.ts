// Bootstrap indexing under faults: a tree with ACLs is walked on the host and loaded
// with COPY; the index must hold every entry exactly once with its inode, parent,
// size and mode, and a stored security descriptor for each.
import { join } from 'node:path';
import { comparable, comparableRows, expectedEntries, indexedRows } from '../../../test/support/index-fixtures';
import { makeFiles, setfacl } from '../../../test/support/remediation-fixtures';
import type { BootstrapIndexResult } from '../../../workflows/bootstrapIndex.messages';
import { call, check, trialDir, workflowOutcome, type ChaosContext } from '../context';
import type { Scenario, Trial } from '../scenario';

const DIRS = 24;
const FILES_PER_DIR = 60;

export function buildAclTree(root: string, dirs: number, perDir: number): void {
  for (let d = 0; d < dirs; d += 1) {
    const files = makeFiles(join(root, `d${String(d).padStart(2, '0')}`, `s${d % 3}`), perDir, d % 2 ? 0o644 : 0o640);
    if (d % 3 === 0) setfacl(['-m', `u:${1001 + (d % 4)}:r`], files);
  }
}

export const indexScenario: Scenario = {
  name: 'bootstrap index',
  async prepare(context: ChaosContext): Promise<Trial> {
    const volume = join(trialDir(context, 'index'), 'vol');
    buildAclTree(volume, DIRS, FILES_PER_DIR);
    const expected = expectedEntries(volume);
    const started = await call(context, context.tenant.tokens.op, 'POST', '/index/bootstrap', {
      hostId: context.stack.hostId, volume, shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null }, batchRows: 1_000,
    });
    if (started.statusCode !== 202) throw new Error(`bootstrap refused: ${started.statusCode} ${started.body}`);
    let result: BootstrapIndexResult | undefined;
    return {
      async drive() {
        result = await workflowOutcome<BootstrapIndexResult>(context, started.json().id);
      },
      async verify() {
        const violations: string[] = [];
        check(violations, result?.status === 'OK', `bootstrap ended ${result?.status}`);
        check(violations, result?.entries === expected.size, `bootstrap counted ${result?.entries} entries, the tree has ${expected.size}`);
        try {
          const rows = await indexedRows(context.admin, result!.scanId);
          check(violations, rows.size === expected.size, `${rows.size} index rows, expected ${expected.size}`);
          const disk = comparable(expected.values());
          const wrong = comparableRows(rows.values()).filter((row, i) => JSON.stringify(row) !== JSON.stringify(disk[i]));
          check(violations, wrong.length === 0, `${wrong.length} rows differ from the disk, first ${JSON.stringify(wrong[0])}`);
        } catch (error) {
          violations.push((error as Error).message);
        }
        const total = await context.admin.query(`SELECT count(*)::int AS n FROM file WHERE scan_id = $1`, [result?.scanId ?? -1]);
        check(violations, total.rows[0].n === expected.size, `${total.rows[0].n} file rows in the scan, expected ${expected.size}`);
        const dangling = await context.admin.query(`SELECT count(*)::int AS n FROM file f WHERE f.scan_id = $1 AND (f.security_id IS NULL
          OR NOT EXISTS (SELECT 1 FROM security_descriptor d WHERE d.tenant_id = f.tenant_id AND d.id = f.security_id))`, [result?.scanId ?? -1]);
        check(violations, dangling.rows[0].n === 0, `${dangling.rows[0].n} index rows without their security descriptor`);
        return violations;
      },
    };
  },
};
