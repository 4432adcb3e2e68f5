// The activity registry: every activity of the system, built from injected deps.
import type { ActivityDeps } from './deps';
import { createVaultTransitActivities } from './vault-transit';
import { createTenantActivities } from './tenants';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createVaultTransitActivities(deps),
    ...createTenantActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
