// The reference agent. `npm run agent -- scan <dir> --share NAME --api URL --token T`
// uploads a scan of a directory tree; `npm run agent -- lucid-tail <volumeRoot>
// --volume-id V ...` follows LucidLink audit logs and posts access-time updates.
import { parseArgs } from 'node:util';
import { closeConnections, type ApiTarget } from './agent-client';
import { runScanAgent } from './agent-scan';
import { lucidTailPass, runLucidTail } from './agent-lucid';

const USAGE = `usage:
  agent scan <dir> --share NAME [--api URL] [--token T] [--tenant CODE] [--source-type NTFS|SMB|POSIX|LucidLink]
             [--chunk-rows 250000] [--uploads 2] [--queue DIR] [--new] [--wait] [--quiet]
  agent lucid-tail <volumeRoot> --volume-id V [--api URL] [--token T] [--tenant CODE]
             [--interval 300] [--once] [--batch 10000] [--cursor FILE] [--path-prefix P]
  --api defaults to $STRATA_API or http://127.0.0.1:3000, --token to $STRATA_TOKEN.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      share: { type: 'string' }, api: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' },
      'source-type': { type: 'string' }, 'chunk-rows': { type: 'string' }, uploads: { type: 'string' }, queue: { type: 'string' },
      new: { type: 'boolean' }, wait: { type: 'boolean' }, quiet: { type: 'boolean' },
      'volume-id': { type: 'string' }, interval: { type: 'string' }, once: { type: 'boolean' }, batch: { type: 'string' },
      cursor: { type: 'string' }, 'path-prefix': { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const [command, path] = positionals;
  const token = values.token ?? process.env.STRATA_TOKEN;
  if (!command || !path) fail('a command and a path are required');
  if (!token) fail('no token: pass --token or set STRATA_TOKEN');
  const target: ApiTarget = { api: values.api ?? process.env.STRATA_API ?? 'http://127.0.0.1:3000', token, tenantCode: values.tenant };
  if (command === 'scan') {
    if (!values.share) fail('scan needs --share');
    const result = await runScanAgent({
      root: path, share: values.share, target, chunkRows: Number(values['chunk-rows'] ?? 250_000),
      srcType: values['source-type'] ?? (process.platform === 'win32' ? 'NTFS' : 'POSIX'),
      uploads: Number(values.uploads ?? 2), queueDir: values.queue, newScan: values.new, wait: values.wait, quiet: values.quiet,
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.status === undefined || result.status === 'OK' ? 0 : 1;
  }
  if (command === 'lucid-tail') {
    const volumeId = values['volume-id'] ?? fail('lucid-tail needs --volume-id');
    const options = {
      volumeRoot: path, volumeId, target, cursorFile: values.cursor, pathPrefix: values['path-prefix'],
      batchSize: Number(values.batch ?? 10_000),
    };
    if (values.once) {
      process.stdout.write(`${JSON.stringify(await lucidTailPass(options))}\n`);
      return 0;
    }
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await runLucidTail({ ...options, intervalSeconds: Number(values.interval ?? 300), signal: stop.signal });
    return 0;
  }
  return fail(`unknown command ${command}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { closeConnections(); process.exit(code); }, (error) => {
    process.stderr.write(`agent failed: ${(error as Error).message}\n`);
    closeConnections();
    process.exit(1);
  });
}
