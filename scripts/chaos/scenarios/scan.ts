// Scan ingestion under faults: an agent uploads chunks (retrying as it would) and
// seals; the scan must end OK with exactly the uploaded rows, each once.
import { csvRows, newScanGuid, putChunk, seal } from '../../../test/support/ingest-helpers';
import { check, eventually, persist, call, type ChaosContext } from '../context';
import type { Scenario, Trial } from '../scenario';

const CHUNKS = 6;
const ROWS_PER_CHUNK = 4_000;

export const scanScenario: Scenario = {
  name: 'scan ingestion',
  async prepare(context: ChaosContext): Promise<Trial> {
    const guid = newScanGuid();
    const token = context.tenant.tokens.agent;
    const upload = (seq: number) => persist(`chunk ${seq}`, () =>
      putChunk(context.app, { guid, seq, token, body: csvRows(seq * ROWS_PER_CHUNK, (seq + 1) * ROWS_PER_CHUNK), gzip: seq % 2 === 0 }));
    const first = await upload(0);
    if (first.statusCode !== 202) throw new Error(`chunk 0 refused: ${first.statusCode} ${first.body}`);
    return {
      async drive() {
        for (let seq = 1; seq < CHUNKS; seq += 1) {
          const answer = await upload(seq);
          if (answer.statusCode !== 202 && answer.statusCode !== 200) throw new Error(`chunk ${seq} refused: ${answer.statusCode} ${answer.body}`);
        }
        const sealed = await persist('seal', () => seal(context.app, token, guid, CHUNKS));
        if (sealed.statusCode !== 202 && sealed.statusCode !== 200) throw new Error(`seal refused: ${sealed.statusCode} ${sealed.body}`);
        await eventually(`scan ${guid} to end`, async () => {
          const answer = await call(context, context.tenant.tokens.op, 'GET', `/scans/${guid}`);
          return answer.statusCode === 200 && answer.json().status !== 'RUNNING' ? true : undefined;
        });
      },
      async verify() {
        const violations: string[] = [];
        const end = (await call(context, context.tenant.tokens.op, 'GET', `/scans/${guid}`)).json();
        check(violations, end.status === 'OK', `scan ended ${end.status} (${end.reason ?? ''}), not OK`);
        check(violations, end.chunksIngested === CHUNKS && end.rowsIngested === CHUNKS * ROWS_PER_CHUNK,
          `scan reports ${end.chunksIngested} chunks / ${end.rowsIngested} rows, expected ${CHUNKS} / ${CHUNKS * ROWS_PER_CHUNK}`);
        const counts = (await context.admin.query(
          `SELECT count(*)::int AS files, count(DISTINCT (f.dir_id, f.name))::int AS distinct_files,
                  (SELECT count(*)::int FROM ingest_chunk c WHERE c.scan_id = s.id) AS chunks,
                  (SELECT count(*)::int FROM file f2 WHERE f2.scan_id = s.id AND f2.size_bytes <> (substring(f2.name from 'file-(\\d+)')::bigint * 10)) AS wrong_sizes
             FROM scan s JOIN file f ON f.scan_id = s.id WHERE s.tenant_id = $1 AND s.scan_guid = $2 GROUP BY s.id`,
          [context.tenant.tenantId, guid])).rows[0] ?? { files: 0, distinct_files: 0, chunks: 0, wrong_sizes: 0 };
        check(violations, counts.files === CHUNKS * ROWS_PER_CHUNK, `${counts.files} file rows, expected ${CHUNKS * ROWS_PER_CHUNK}`);
        check(violations, counts.distinct_files === counts.files, `${counts.files - counts.distinct_files} duplicate file rows`);
        check(violations, counts.chunks === CHUNKS, `${counts.chunks} ingest_chunk rows, expected ${CHUNKS}`);
        check(violations, counts.wrong_sizes === 0, `${counts.wrong_sizes} file rows with a size other than uploaded`);
        return violations;
      },
    };
  },
};
