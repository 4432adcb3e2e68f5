// What the api's routes need, built once by server.ts (or a test) and passed in.
import type { Pool } from 'pg';
import type { Client, Connection } from '@temporalio/client';
import type { VaultClient } from '../lib/vault-client';
import type { VaultPayloadCodec } from '../lib/payload-codec';

export interface ApiContext {
  pool: Pool;
  temporal: Client;
  temporalConnection: Connection;
  vault: VaultClient;
  dataDir: string;
  /** The codec the Temporal client uses; serves /codec/encode and /codec/decode when set. */
  payloadCodec?: VaultPayloadCodec;
}
