// The api and worker as child processes of a benchmark or load script (built
// files under dist/), with the tail of their stderr shown if one dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';

export function startChild(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(projectRoot(), 'dist', script)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (data: Buffer) => { tail = (tail + data.toString()).slice(-8000); });
  child.once('exit', (code, signal) => { if (code) console.error(`[${name}] exited with ${code ?? signal}:\n${tail}`); });
  return child;
}

export async function waitForApi(api: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try { if ((await fetch(`${api}/healthz`)).ok) return; } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the api did not come up');
}

export async function stopChildren(children: ChildProcess[]): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
}
