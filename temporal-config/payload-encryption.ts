// Payload encryption settings shared by every Temporal client and worker: on unless
// STRATA_PAYLOAD_ENCRYPTION=off, transit key STRATA_PAYLOAD_TRANSIT_KEY (default
// strata-payloads). Every process that talks to Temporal must agree on this.
import type { DataConverter } from '@temporalio/common';
import { VaultPayloadCodec } from '../lib/payload-codec';
import { PAYLOAD_TRANSIT_KEY, PayloadKeyring } from '../lib/payload-keys';
import { vaultSettings, type VaultClient } from '../lib/vault-client';

export function payloadEncryptionEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.STRATA_PAYLOAD_ENCRYPTION ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(value)) {
    throw new Error(`STRATA_PAYLOAD_ENCRYPTION must be on or off, not ${JSON.stringify(env.STRATA_PAYLOAD_ENCRYPTION)}`);
  }
  return ['on', 'true', '1'].includes(value);
}

/** The codec for this process, or undefined when encryption is switched off. */
export function createPayloadCodec(vault: VaultClient, env: NodeJS.ProcessEnv = process.env): VaultPayloadCodec | undefined {
  if (!payloadEncryptionEnabled(env)) return undefined;
  const keyring = new PayloadKeyring(vault, {
    transitKey: env.STRATA_PAYLOAD_TRANSIT_KEY ?? PAYLOAD_TRANSIT_KEY,
    transitMount: vaultSettings(env).transitMount,
    maxKeyAgeMs: positiveNumber(env, 'STRATA_PAYLOAD_KEY_MAX_AGE_MS', 3_600_000),
  });
  return new VaultPayloadCodec(keyring);
}

/** Where the failure converter lives, for bundleWorkflowCode and data converters. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function dataConverterWith(codec: VaultPayloadCodec | undefined): DataConverter {
  return codec ? { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH } : {};
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${JSON.stringify(env[name])}`);
  return value;
}
