// Activities served by a host worker on its own disks. Filesystem and FFI
// activities are registered here; the central worker never runs them.
import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { ActivityDeps } from './deps';
import { createIndexHostActivities } from './index-host';
import { createSanitizeHostActivities } from './sanitize-host';
import { createTieringHostActivities } from './tiering-host';
import { createRemediationHostActivities } from './remediation-host';

export interface HostDeps extends ActivityDeps { hostId: string }

export function createHostActivities(deps: HostDeps) {
  return {
    async describeHost(input: { path?: string }): Promise<{ hostId: string; hostname: string; freeBytes?: number }> {
      const info = input.path ? await statfs(input.path) : undefined;
      return { hostId: deps.hostId, hostname: hostname(), freeBytes: info ? info.bavail * info.bsize : undefined };
    },
    ...createIndexHostActivities(deps),
    ...createSanitizeHostActivities(deps),
    ...createTieringHostActivities(deps),
    ...createRemediationHostActivities(deps),
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
