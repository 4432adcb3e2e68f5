// Activities that talk to the Vault Transit engine. Each is idempotent: creating
// an existing key is a no-op, a wrapped data key is only a candidate until stored.
import type { ActivityDeps } from './deps';

export function createVaultTransitActivities({ vault }: Pick<ActivityDeps, 'vault'>) {
  return {
    async ensureTransitKey(input: { tenantCode: string }): Promise<{ kmsRef: string }> {
      await vault.ensureTransitKey(input.tenantCode);
      return { kmsRef: `vault:transit/keys/${input.tenantCode}` };
    },

    async createWrappedDataKey(input: { tenantCode: string }): Promise<{ encryptedDek: string }> {
      return { encryptedDek: await vault.createWrappedDataKey(input.tenantCode) };
    },

    async rotateTransitKey(input: { tenantCode: string }): Promise<{ latestVersion: number }> {
      return { latestVersion: await vault.rotateKey(input.tenantCode) };
    },
  };
}
