// Messages and input types of onboardTenant, importable by the api.
import { defineQuery } from '@temporalio/workflow';

export interface FirstUser { name: string; role: 'viewer' | 'operator' | 'approver' | 'admin' | 'agent'; tokenId: string; tokenHashHex: string; label?: string }

export interface OnboardTenantInput {
  code: string;
  name: string;
  requestedBy: string;
  firstUsers?: FirstUser[];
}

export interface OnboardTenantResult { tenantId: string; code: string; created: boolean; kmsRef: string }

export interface OnboardTenantStatus { phase: string; tenantId?: string }

export const statusQuery = defineQuery<OnboardTenantStatus>('status');

export function onboardTenantWorkflowId(code: string): string {
  return `tenant/${code}`;
}
