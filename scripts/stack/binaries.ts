// Finds the Temporal CLI and the Vault-API server: on PATH, in the tool cache,
// or built once from the Go module proxy at a pinned version.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { TEMPORAL_CLI_MODULE, TEMPORAL_CLI_VERSION } from '../../temporal-config/dev-server';

export function toolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STRATA_TOOL_CACHE ?? join(homedir(), '.cache', 'strata', 'bin');
}

function executable(path: string): boolean {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function goBinary(): string {
  const found = onPath('go') ?? (executable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!found) throw new Error('Go toolchain not found: needed once to build the Temporal CLI and the Vault server');
  return found;
}

function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(goBinary(), args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`go ${args.join(' ')} failed with exit code ${result.status}`);
}

export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const cached = join(toolCacheDir(env), 'temporal');
  const found = onPath('temporal') ?? (executable(cached) ? cached : undefined);
  if (found) return found;
  mkdirSync(toolCacheDir(env), { recursive: true });
  console.log(`[stack] building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (first run only, a few minutes)...`);
  runGo(['install', '-v', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], toolCacheDir(env), { GOBIN: toolCacheDir(env), GOFLAGS: '-buildvcs=false' });
  return cached;
}

export function resolveVaultServer(env: NodeJS.ProcessEnv = process.env): string {
  const cached = join(toolCacheDir(env), 'vault');
  const found = env.STRATA_VAULT_BIN ?? onPath('bao') ?? onPath('vault') ?? (executable(cached) ? cached : undefined);
  if (found) return found;
  mkdirSync(toolCacheDir(env), { recursive: true });
  const moduleDir = join(projectRoot(), 'scripts', 'vault-server');
  console.log('[stack] building the Vault server (hashicorp/vault v1.21.0) from the Go module proxy (first run only, several minutes)...');
  runGo(['build', '-v', '-mod=mod', '-o', cached, 'github.com/hashicorp/vault'], moduleDir, { GOFLAGS: '-buildvcs=false' });
  return cached;
}

export function binaryVersion(path: string): string {
  return execFileSync(path, ['version'], { encoding: 'utf8' }).split('\n')[0];
}
