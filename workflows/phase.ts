// Shared by all workflows: record the current phase in the status object and in
// the StrataPhase search attribute (with TenantCode and ShareName) for the UI.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { SHARE_NAME, STRATA_PHASE, TENANT_CODE } from '../temporal-config/search-attributes';

export function markPhase(status: { phase: string }, phase: string, labels: { tenantCode: string; shareName?: string }): void {
  status.phase = phase;
  const pairs: SearchAttributeUpdatePair[] = [
    { key: TENANT_CODE, value: labels.tenantCode },
    { key: STRATA_PHASE, value: phase },
  ];
  if (labels.shareName) pairs.push({ key: SHARE_NAME, value: labels.shareName });
  upsertSearchAttributes(pairs);
}
