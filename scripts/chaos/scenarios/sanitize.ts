// Sanitize under faults: a Tier-1/Tier-2 pair with one item of every category; two
// approvers approve (retrying through the outage) and the report is executed: each
// item handled exactly once, the orphan quarantined once, approvals audited once.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QUARANTINE_DIR } from '../../../activities/sanitize-host';
import { buildTierFixture } from '../../../test/support/tier-fixture';
import { call, check, eventually, persist, type ChaosContext } from '../context';
import type { Scenario, Trial } from '../scenario';

type Run = { status: string; reportHash?: string; items: { outcome: string | null }[] };

export const sanitizeScenario: Scenario = {
  name: 'sanitize',
  async prepare(context: ChaosContext): Promise<Trial> {
    const { tokens, tenantId } = context.tenant;
    const fixture = await buildTierFixture(context.admin, tenantId, context.stack.hostId);
    const started = await call(context, tokens.op, 'POST', '/sanitize', { share: fixture.shareName });
    if (started.statusCode !== 202) throw new Error(`sanitize refused: ${started.statusCode} ${started.body}`);
    const { id } = started.json() as { id: string };
    const view = async (): Promise<Run> => {
      const answer = await call(context, tokens.op, 'GET', `/sanitize/${id}`);
      if (answer.statusCode !== 200) throw new Error(`GET sanitize ${answer.statusCode}`);
      return answer.json();
    };
    const reach = (statuses: string[]) => eventually(`sanitize ${id} to reach ${statuses.join('|')}`, async () => {
      const run = await view();
      return statuses.includes(run.status) ? run : undefined;
    });
    const approve = async (who: 'ap1' | 'ap2', reportHash: string) => {
      const answer = await persist(`approval by ${who}`, () => call(context, tokens[who], 'POST', `/sanitize/${id}/approvals`, { decision: 'approve', reportHash }));
      // A retry of an approval that did land the first time is refused as a repeat: that is the same approval.
      const repeat = answer.statusCode === 422 && /already approved/.test(answer.body);
      if ((answer.statusCode < 200 || answer.statusCode >= 300) && !repeat) throw new Error(`approval by ${who}: ${answer.statusCode} ${answer.body}`);
    };
    return {
      async drive() {
        const awaiting = await reach(['AWAITING_APPROVAL', 'FAILED']);
        if (awaiting.status !== 'AWAITING_APPROVAL') return;
        await approve('ap1', awaiting.reportHash!);
        await approve('ap2', awaiting.reportHash!);
        await reach(['COMPLETED', 'FAILED']);
      },
      async verify() {
        const violations: string[] = [];
        const run = await view();
        check(violations, run.status === 'COMPLETED', `sanitize ended ${run.status}`);
        check(violations, run.items.length === 4 && run.items.every((item) => item.outcome === 'done'),
          `item outcomes: ${run.items.map((item) => item.outcome).join(', ')}`);
        const states = (await context.admin.query('SELECT name, state, last_outcome FROM tier_object WHERE tenant_id = $1 AND share_name = $2 ORDER BY name',
          [tenantId, fixture.shareName])).rows.map((row) => `${row.name}:${row.state}:${row.last_outcome}`);
        const expected = ['gone.txt:DELETED:SOURCE_GONE', 'm.txt:STUBBED:MISSING_ON_TIER2', 'ok.txt:STUBBED:null'];
        check(violations, JSON.stringify(states) === JSON.stringify(expected), `tier states ${states.join(' ')}`);
        const orphan = join(fixture.tier2Root, fixture.uris.orphan.slice(fixture.rootUri.length + 1));
        check(violations, !existsSync(orphan), 'the orphan is still in place');
        const quarantined = existsSync(join(fixture.tier2Root, QUARANTINE_DIR))
          ? readdirSync(join(fixture.tier2Root, QUARANTINE_DIR), { recursive: true }).map(String).filter((name) => name.endsWith('orphan.bin')) : [];
        check(violations, quarantined.length === 1, `${quarantined.length} quarantined copies of the orphan`);
        check(violations, existsSync(join(fixture.tier2Root, fixture.uris.healthy.slice(fixture.rootUri.length + 1))), 'the healthy Tier-2 object is gone');
        const audit = (await context.admin.query(`SELECT action, actor FROM audit_log WHERE tenant_id = $1 AND target = $2 AND action = 'approval.granted' ORDER BY seq`,
          [tenantId, `sanitize/${id}`])).rows.map((row) => row.actor);
        check(violations, audit.length === 2 && audit[0] !== audit[1], `approval audit rows: ${audit.join(', ')}`);
        const events = (await context.admin.query(`SELECT a.status, array_agg(e.to_status ORDER BY e.id) AS events FROM action a JOIN action_event e ON e.action_id = a.id
          WHERE a.subject = $1 GROUP BY a.status`, [id])).rows;
        check(violations, events.length === 1 && events[0].status === 'completed' && JSON.stringify(events[0].events) === '["in_progress","completed"]',
          `action log ${JSON.stringify(events)}`);
        return violations;
      },
    };
  },
};
