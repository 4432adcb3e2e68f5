// Messages and input types of rotateTenantKey, importable by the api.
import { defineQuery } from '@temporalio/workflow';

export interface RotateTenantKeyInput { tenantId: string; tenantCode: string; requestedBy: string }
export interface RotateTenantKeyResult { latestVersion: number; rewrapped: boolean }
export interface RotateTenantKeyStatus { phase: string }

export const statusQuery = defineQuery<RotateTenantKeyStatus>('status');

export function rotateTenantKeyWorkflowId(tenantCode: string, requestId: string): string {
  return `tenant-key/${tenantCode}/${requestId}`;
}
