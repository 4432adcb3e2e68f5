// The activity registry: every activity of the system, built from injected deps.
import type { ActivityDeps } from './deps';
import { createVaultTransitActivities } from './vault-transit';
import { createTenantActivities } from './tenants';
import { createIngestActivities } from './ingest';
import { createAccessActivities } from './ingest-access';
import { createIndexActivities } from './index-db';
import { createSanitizeActivities } from './sanitize';
import { createTieringActivities } from './tiering';
import { createTieringPlanActivities } from './tiering-plan';
import { createRemediationActivities } from './remediation';
import { createRemediationDriftActivities } from './remediation-drift';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createVaultTransitActivities(deps),
    ...createTenantActivities(deps),
    ...createIngestActivities(deps),
    ...createAccessActivities(deps),
    ...createIndexActivities(deps),
    ...createSanitizeActivities(deps),
    ...createTieringActivities(deps),
    ...createTieringPlanActivities(deps),
    ...createRemediationActivities(deps),
    ...createRemediationDriftActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
