// Rebuilds the record of a spooled chunk whose upload died after claiming the file
// but before writing its record: the file is complete and valid (it was claimed
// only after validation), so re-reading it gives its rows and hash.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { CsvChunkValidator } from '../../lib/csv-chunk';
import { csvLimitsFromEnv } from '../../lib/csv-rules';
import { readSpoolMeta, resolveSpoolRef, spoolExists, type SpoolMeta } from '../../lib/spool';

export async function recoverSpoolMeta(dataDir: string, spoolRef: string): Promise<SpoolMeta | undefined> {
  const recorded = await readSpoolMeta(dataDir, spoolRef);
  if (recorded || !(await spoolExists(dataDir, spoolRef))) return recorded;
  const path = resolveSpoolRef(dataDir, spoolRef);
  const validator = new CsvChunkValidator(csvLimitsFromEnv());
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    for (const piece of validator.push(chunk as Buffer)) hash.update(piece);
  }
  const { summary, tail } = validator.finish();
  for (const piece of tail) hash.update(piece);
  const seq = Number(/(\d+)\.csv$/.exec(spoolRef)?.[1]);
  const meta: SpoolMeta = { seq, rows: summary.rows, bytes: summary.bytes, sha256: hash.digest('hex'), spoolRef };
  const temp = `${path}.recovered.${process.pid}`;
  await writeFile(temp, JSON.stringify(meta), { flush: true });
  await rename(temp, path.replace(/\.csv$/, '.meta.json'));
  return meta;
}
