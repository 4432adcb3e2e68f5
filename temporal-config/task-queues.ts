// Task queue names: one central queue for workflows and DB/Vault work, one per
// file server for filesystem work on that server's own disks.
export const CORE_TASK_QUEUE = 'strata-core';

export function hostTaskQueue(hostId: string): string {
  return `strata-host.${hostId}`;
}
