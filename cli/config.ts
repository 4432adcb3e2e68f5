// Where the CLI finds the api and its token: flags, then STRATA_URL / STRATA_TOKEN /
// STRATA_TENANT, then ~/.config/strata/config.json (which must be 0600, like an SSH key).
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors';

export interface CliConfig { url: string; token?: string; tenant?: string }

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export function configPath(env: NodeJS.ProcessEnv): string {
  return env.STRATA_CONFIG ?? join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'strata', 'config.json');
}

export function readConfigFile(path: string): Partial<CliConfig> {
  if (!existsSync(path)) return {};
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CliError(EXIT.auth, `${path} holds a token but is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(EXIT.usage, `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(EXIT.usage, `${path} must hold a JSON object`);
  const config: Partial<CliConfig> = {};
  for (const key of ['url', 'token', 'tenant'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new CliError(EXIT.usage, `${path}: "${key}" must be a string`);
    config[key] = value;
  }
  return config;
}

export function writeConfigFile(path: string, config: Partial<CliConfig>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function resolveConfig(flags: Partial<CliConfig>, env: NodeJS.ProcessEnv, file: Partial<CliConfig>): CliConfig {
  const fromEnv = (name: string) => env[name] || undefined;
  const url = (flags.url ?? fromEnv('STRATA_URL') ?? file.url ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new CliError(EXIT.usage, `the api URL ${JSON.stringify(url)} must start with http:// or https://`);
  return { url, token: flags.token ?? fromEnv('STRATA_TOKEN') ?? file.token, tenant: flags.tenant ?? fromEnv('STRATA_TENANT') ?? file.tenant };
}
