// Workflow bundle entry: every workflow the central worker runs.
export { onboardTenant } from './onboardTenant';
export { rotateTenantKey } from './rotateTenantKey';
