#!/usr/bin/env node
// `strata`: the operator CLI. Every command goes through the HTTP API with a bearer
// token; output is a table by default and JSON with --json; exit codes in errors.ts.
import { parseArgs } from 'node:util';
import { ApiClient } from './http';
import { configPath, readConfigFile, resolveConfig, writeConfigFile, type CliConfig } from './config';
import { CliError, EXIT, usageError } from './errors';
import type { Command, Io, Options } from './command';
import { tenantCommands } from './commands/tenants';
import { scanCommands } from './commands/scans';
import { tieringCommands } from './commands/tiering';
import { sanitizeCommands } from './commands/sanitize';
import { indexCommands } from './commands/index-runs';
import { remediationCommands } from './commands/remediation';

export const COMMANDS: Command[] = [...tenantCommands, ...scanCommands, ...tieringCommands, ...sanitizeCommands, ...indexCommands, ...remediationCommands];

const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' }, token: { type: 'string' }, tenant: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

export interface Parsed { command: Command | 'help' | 'login'; values: Record<string, unknown>; positionals: string[] }

/** `strata [global options] <group> <action> [arguments and options]`. */
export function parseCommandLine(argv: string[]): Parsed {
  const at = commandIndex(argv);
  const group = argv[at];
  const action = argv[at + 1]?.startsWith('-') ? undefined : argv[at + 1];
  const leading = argv.slice(0, at);
  if (!group || group === 'help' || argv.includes('--help') || argv.includes('-h')) return { command: 'help', values: {}, positionals: [] };
  if (group === 'login') return { command: 'login', ...parse([...leading, ...argv.slice(at + 1)], GLOBAL_OPTIONS, [0, 0], 'login') };
  const candidates = COMMANDS.filter((command) => command.group === group);
  if (candidates.length === 0) throw usageError(`unknown command ${JSON.stringify(group)}; run \`strata help\``);
  const command = candidates.find((candidate) => candidate.action === action);
  if (!command) throw usageError(`strata ${group} needs one of: ${candidates.map((c) => c.action).join(', ')}${action ? ` (not ${JSON.stringify(action)})` : ''}`);
  return { command, ...parse([...leading, ...argv.slice(at + 2)], { ...GLOBAL_OPTIONS, ...command.options }, command.positionals, `${group} ${action}`) };
}

/** Index of the command word, past global options (and the values of those that take one). */
function commandIndex(argv: string[]): number {
  let index = 0;
  while (index < argv.length && argv[index].startsWith('-')) {
    const name = argv[index].replace(/^--?/, '');
    index += GLOBAL_OPTIONS[name]?.type === 'string' ? 2 : 1;
  }
  return index;
}

function parse(args: string[], options: Options, [min, max]: [number, number], name: string): { values: Record<string, unknown>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`strata ${name}: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw usageError(`strata ${name} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${parsed.positionals.length}; run \`strata help\``);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

export function helpText(): string {
  const lines = COMMANDS.map((c) => `  strata ${c.group} ${c.action} ${c.usage}\n      ${c.summary}`);
  return ['strata: operator CLI for the strata API', '',
    'Usage: strata [--url <api>] [--token <token>] [--tenant <code>] [--json] <command> [arguments]', '',
    '  strata login --url <api> --token <token> [--tenant <code>]',
    '      store the api URL and token in ~/.config/strata/config.json (mode 0600)', ...lines, '',
    'Settings: --url/--token/--tenant, else STRATA_URL, STRATA_TOKEN, STRATA_TENANT, else the config file',
    '(STRATA_CONFIG names another). --tenant sends X-Tenant-Code (install admins acting on a tenant).', '',
    'Exit codes: 0 ok; 1 usage error; 2 the api refused the request (4xx); 3 the api failed (5xx) or is unreachable;',
    '4 no token, an unsafe config file, or 401/403; 5 with --wait, the run ended failed, rejected, expired or rolled back.', ''].join('\n');
}

export async function runCli(argv: string[], io: Io): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.command === 'help') { io.stdout(helpText()); return EXIT.ok; }
    const flags = { url: parsed.values.url, token: parsed.values.token, tenant: parsed.values.tenant } as Partial<CliConfig>;
    const file = configPath(io.env);
    if (parsed.command === 'login') return login(file, flags, io);
    const config = resolveConfig(flags, io.env, readConfigFile(file));
    const context = { api: new ApiClient(config), io, json: parsed.values.json === true, values: parsed.values as never, positionals: parsed.positionals };
    return (await parsed.command.run(context)) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) { io.stderr(`strata: ${error.message}\n`); return error.exitCode; }
    io.stderr(`strata: unexpected error: ${(error as Error).stack ?? error}\n`);
    return EXIT.unavailable;
  }
}

function login(file: string, flags: Partial<CliConfig>, io: Io): number {
  if (!flags.token) throw usageError('strata login needs --token <token> (and usually --url <api>)');
  const config = resolveConfig(flags, {}, {});
  writeConfigFile(file, { url: config.url, token: config.token, ...(config.tenant ? { tenant: config.tenant } : {}) });
  io.stdout(`saved ${config.url} and the token to ${file} (mode 0600)\n`);
  return EXIT.ok;
}

if (require.main === module) {
  const io: Io = {
    stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), interactive: process.stderr.isTTY === true,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), env: process.env,
  };
  runCli(process.argv.slice(2), io).then((code) => { process.exitCode = code; }, (error) => { console.error(error); process.exitCode = EXIT.unavailable; });
}
