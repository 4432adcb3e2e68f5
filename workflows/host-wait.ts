// Host work runs on the host's own task queue; a host whose worker is not connected
// would leave it scheduled forever. The first step of a run on a host may wait only
// so long to be picked up, and then the run says which host is missing.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import { hostTaskQueue } from '../temporal-config/task-queues';

export const DEFAULT_HOST_WAIT_SECONDS = 900;

/** Whether an activity failed because no worker of its queue picked it up in time. */
export function notPickedUp(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof TimeoutFailure && error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

export function hostNotConnectedMessage(hostId: string, waitedSeconds: number): string {
  return `host ${hostId} did not pick up the work within ${waitedSeconds} s: no strata host worker polls ${hostTaskQueue(hostId)}`;
}

/** A catch handler: a step the host did not pick up in time becomes HostNotConnected; any other error passes through. */
export function rethrowIfNotConnected(hostId: string, waitedSeconds: number): (error: unknown) => never {
  return (error) => { throw notPickedUp(error) ? hostNotConnected(hostId, waitedSeconds) : error; };
}

/** The error a run fails with when its host is not connected (non-retryable: waiting was the retry). */
export function hostNotConnected(hostId: string, waitedSeconds: number): ApplicationFailure {
  return ApplicationFailure.create({ type: 'HostNotConnected', nonRetryable: true, message: hostNotConnectedMessage(hostId, waitedSeconds) });
}
