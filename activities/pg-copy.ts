// Streams a file into a COPY ... FROM STDIN on an open client with pg-copy-streams,
// hashing the bytes on the way so the caller can check them against the spool record.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface CopyResult { rows: number; bytes: number; sha256: string }

export async function copyFileInto(client: PoolClient, copySql: string, path: string): Promise<CopyResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const copy = client.query(copyFrom(copySql));
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), tap, copy);
  return { rows: copy.rowCount, bytes, sha256: hash.digest('hex') };
}
