// Custom search attributes every strata workflow upserts so operators can filter
// runs in the Temporal UI; the dev server registers them at start.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TENANT_CODE = defineSearchAttributeKey('TenantCode', SearchAttributeType.KEYWORD);
export const SHARE_NAME = defineSearchAttributeKey('ShareName', SearchAttributeType.KEYWORD);
export const STRATA_PHASE = defineSearchAttributeKey('StrataPhase', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_DEFINITIONS: Record<string, 'Keyword'> = {
  TenantCode: 'Keyword',
  ShareName: 'Keyword',
  StrataPhase: 'Keyword',
};
