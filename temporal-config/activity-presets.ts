// Named activity option presets. Workflows pick a preset by intent instead of
// repeating timeouts; non-retryable types name classes from activities/errors.ts.
import type { ActivityOptions } from '@temporalio/common';

const PERMANENT_ERRORS = ['InvalidInputError', 'NotFoundError', 'ConflictError', 'TenantMismatchError'];

export const vaultRpc: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [...PERMANENT_ERRORS, 'VaultPermissionError'],
  },
};

export const dbWrite: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 30,
    nonRetryableErrorTypes: PERMANENT_ERRORS,
  },
};

export const bulkCopy: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 50,
    nonRetryableErrorTypes: [...PERMANENT_ERRORS, 'ChecksumMismatchError'],
  },
};

export const hostFs: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 50,
    nonRetryableErrorTypes: [...PERMANENT_ERRORS, 'SourceChangedError'],
  },
};
