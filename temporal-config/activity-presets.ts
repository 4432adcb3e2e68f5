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

// One scan chunk: COPY then normalize in one transaction. A short heartbeat
// timeout lets a chunk whose worker died be retried elsewhere quickly.
export const chunkIngest: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 100,
    nonRetryableErrorTypes: [...PERMANENT_ERRORS, 'ChecksumMismatchError', 'SpoolMissingError'],
  },
};

// Tiering plan selection: pages of the index, each committed with its progress,
// so a retry resumes; it heartbeats every page.
export const tieringPlanBuild: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20, nonRetryableErrorTypes: PERMANENT_ERRORS },
};

// Tiering batches on a host (act, rehydrate, verify): heartbeats every second, so a
// dead host worker is noticed within the heartbeat timeout (the workflow may shorten
// it) and the batch resumes on the next worker of that host; every step is idempotent.
// Remediation batches on a host (snapshot, apply, verify, rollback, drift): every step
// re-reads the file first, so a batch retried after a dead worker resumes safely.
export const remediationHost: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 100, nonRetryableErrorTypes: PERMANENT_ERRORS },
};

export const tieringHost: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 200, nonRetryableErrorTypes: PERMANENT_ERRORS },
};
