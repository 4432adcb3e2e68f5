// Workflow bundle entry: every workflow the central worker runs.
export { onboardTenant } from './onboardTenant';
export { rotateTenantKey } from './rotateTenantKey';
export { scanIngestion } from './scanIngestion';
export { bootstrapIndex } from './bootstrapIndex';
export { indexSync } from './indexSync';
export { indexSyncWatcher } from './indexSyncWatcher';
export { accessUpdates } from './accessUpdates';
export { sanitize } from './sanitize';
export { tieringPlan } from './tieringPlan';
export { tieringAct } from './tieringAct';
export { rehydrate } from './rehydrate';
export { remediation } from './remediation';
export { driftCheck } from './driftCheck';
