// What a CLI command is, what it gets to run, and helpers shared by commands:
// typed option values, output as table or --json, and --wait polling with a progress line.
import type { ParseArgsConfig } from 'node:util';
import { CliError, EXIT, usageError } from './errors';
import type { ApiClient } from './http';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal: progress redraws one line instead of printing one per change. */
  interactive: boolean;
  sleep: (ms: number) => Promise<void>;
  env: NodeJS.ProcessEnv;
}

export interface Context { api: ApiClient; io: Io; json: boolean; values: Values; positionals: string[] }

export interface Command {
  group: string;
  action: string;
  /** `<id> [--wait]`: shown after `strata <group> <action>`. */
  usage: string;
  summary: string;
  options?: Options;
  positionals: [min: number, max: number];
  run(context: Context): Promise<number | void>;
}

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

export function numberOption(values: Values, name: string, { integer = true, min = 0 } = {}): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    throw usageError(`--${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, not ${JSON.stringify(text)}`);
  }
  return value;
}

export function requiredOption(values: Values, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw usageError(`--${name} is required`);
  return value;
}

export function sha256Option(values: Values, name: string): string {
  const value = requiredOption(values, name).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(value)) throw usageError(`--${name} must be the report's SHA-256 hex digest (64 hex characters)`);
  return value;
}

/** Prints the result: JSON for scripts, the human rendering otherwise. */
export function emit(context: Context, data: unknown, human: () => string): void {
  context.io.stdout(context.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

export const WAIT_OPTIONS: Options = { wait: { type: 'boolean' }, interval: { type: 'string' } };

/**
 * Polls until `done` says the run ended, showing `progress` on stderr; returns the
 * last state and the exit code `failed` chooses (EXIT.runFailed for a failed run).
 */
export async function waitFor<T>(context: Context, poll: () => Promise<T>, done: (state: T) => boolean, progress: (state: T) => string): Promise<T> {
  const interval = (numberOption(context.values, 'interval', { integer: false, min: 0.05 }) ?? 2) * 1000;
  let last = '';
  for (;;) {
    const state = await poll();
    const line = progress(state);
    if (line !== last && !context.json) {
      if (context.io.interactive) context.io.stderr(`\r\x1b[2K${line}`);
      else context.io.stderr(`${line}\n`);
      last = line;
    }
    if (done(state)) {
      if (context.io.interactive && !context.json) context.io.stderr('\n');
      return state;
    }
    await context.io.sleep(interval);
  }
}

export function exitFor(status: string, failed: string[]): number {
  return failed.includes(status) ? EXIT.runFailed : EXIT.ok;
}

export function failIfMissing<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new CliError(EXIT.usage, message);
  return value;
}
