// The CI-sized subset of `npm run chaos` (`--ci`): on its own stack (Postgres on a data
// dir, Temporal on a SQLite file, a Vault server with file storage, workers as child
// processes from dist/, so npm test's build must have run), each workflow kind meets
// one fault at a random point and must still end with every invariant intact.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { CI_PAIRS } from '../../scripts/chaos/ci-pairs';

jest.setTimeout(900_000);

function runChaos(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'chaos', 'main.js'), ...args],
      { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => { output += data.toString(); });
    child.stderr.on('data', (data: Buffer) => { output += data.toString(); });
    child.once('exit', (code) => resolve({ code, output }));
  });
}

it('keeps every invariant of every workflow kind through one fault each', async () => {
  const { code, output } = await runChaos(['--ci', '--seed', '20261122']);
  const lines = output.trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]);
  if (code !== 0) console.log(output);
  expect(lines.filter((line) => line.includes(': FAIL'))).toEqual([]);
  expect(last).toEqual({ chaos: { trials: CI_PAIRS.length, failed: 0 } });
  expect(code).toBe(0);
});
