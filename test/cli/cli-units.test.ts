// The CLI without an api: argument parsing, config precedence and file mode,
// formatting, and how api answers map to exit codes (fetch stubbed at the boundary).
import { mkdtempSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, parseCommandLine, runCli, helpText } from '../../cli/strata';
import { readConfigFile, resolveConfig, writeConfigFile, DEFAULT_URL } from '../../cli/config';
import { CliError, EXIT } from '../../cli/errors';
import { ApiClient } from '../../cli/http';
import { bytes, progressBar, table } from '../../cli/format';
import { parseGrant } from '../../cli/commands/remediation';
import type { Io } from '../../cli/command';

const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));

function io(env: NodeJS.ProcessEnv = {}): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), interactive: false, sleep: async () => undefined, env: { STRATA_CONFIG: join(dir, 'none.json'), ...env } };
}

const name = (parsed: ReturnType<typeof parseCommandLine>) => (typeof parsed.command === 'string' ? parsed.command : `${parsed.command.group} ${parsed.command.action}`);

describe('command line', () => {
  it('finds the command past global options before and after it', () => {
    const parsed = parseCommandLine(['--url', 'http://api:1', '--json', 'scans', 'status', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', '--wait', '--tenant', 'acme']);
    expect(name(parsed)).toBe('scans status');
    expect(parsed.positionals).toEqual(['3f2504e0-4f89-11d3-9a0c-0305e82c3301']);
    expect(parsed.values).toMatchObject({ url: 'http://api:1', json: true, wait: true, tenant: 'acme' });
  });

  it('collects repeatable options', () => {
    const parsed = parseCommandLine(['tiering', 'plan', 'projects', '--include', '*.iso', '--include', '*.mov', '--idle-days', '30']);
    expect(parsed.values).toMatchObject({ include: ['*.iso', '*.mov'], 'idle-days': '30' });
  });

  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['tiering'], /needs one of: plan, plans, show/],
    [['tiering', 'explode'], /not "explode"/],
    [['scans', 'status'], /takes 1 argument, got 0/],
    [['scans', 'status', 'a', 'b'], /takes 1 argument, got 2/],
    [['scans', 'status', 'x', '--colour'], /Unknown option '--colour'/],
    [['tokens', 'issue', 'acme', '--user'], /--user.*argument missing|requires an argument|argument missing/i],
  ])('refuses %j with a usage error', (argv, message) => {
    let caught: unknown;
    try { parseCommandLine(argv as string[]); } catch (error) { caught = error; }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).exitCode).toBe(EXIT.usage);
    expect((caught as CliError).message).toMatch(message);
  });

  it('shows help for no command, help and --help, listing every command', async () => {
    for (const argv of [[], ['help'], ['tiering', '--help']]) expect(name(parseCommandLine(argv))).toBe('help');
    for (const command of ['tenants create', 'tokens issue', 'tokens revoke', 'scans status', 'tiering rehydrate', 'sanitize approve', 'sanitize reject',
      'index bootstrap', 'remediation rollback']) expect(helpText()).toContain(`strata ${command}`);
    const out = io();
    expect(await runCli([], out)).toBe(EXIT.ok);
    expect(out.out.join('')).toMatch(/Exit codes: 0 ok; 1 usage error; 2/);
  });

  it('checks option values before calling the api', async () => {
    const cases: [string[], RegExp][] = [
      [['tokens', 'issue', 'acme', '--user', 'bo', '--role', 'king'], /--role must be one of/],
      [['tiering', 'plan', 's', '--idle-days', 'soon'], /--idle-days must be a number/],
      [['tiering', 'rehydrate', '--plan', 'p', '--rewarmed'], /exactly one of --path/],
      [['sanitize', 'approve', 'r', '--hash', 'abc'], /SHA-256 hex digest/],
      [['remediation', 'plan', '--remove', 'other'], /name --share, or --host and --path-prefix/],
    ];
    for (const [argv, message] of cases) {
      const out = io({ STRATA_TOKEN: 'strata_x', STRATA_URL: 'http://127.0.0.1:1' });
      expect(await runCli(argv, out)).toBe(EXIT.usage);
      expect(out.err.join('')).toMatch(message);
    }
  });
});

describe('configuration', () => {
  it('takes flags over the environment over the file, and defaults the url', () => {
    const file = { url: 'http://file:1', token: 'file-token', tenant: 'file-tenant' };
    expect(resolveConfig({}, {}, {})).toEqual({ url: DEFAULT_URL, token: undefined, tenant: undefined });
    expect(resolveConfig({}, {}, file)).toEqual(file);
    expect(resolveConfig({}, { STRATA_URL: 'http://env:2/', STRATA_TOKEN: 'env-token' }, file)).toEqual({ url: 'http://env:2', token: 'env-token', tenant: 'file-tenant' });
    expect(resolveConfig({ token: 'flag-token' }, { STRATA_TOKEN: 'env-token' }, file).token).toBe('flag-token');
    expect(() => resolveConfig({ url: 'ftp://x' }, {}, {})).toThrow(/must start with http/);
  });

  it('writes the config file 0600 and refuses to read one others can read', () => {
    const path = join(dir, 'nested', 'config.json');
    writeConfigFile(path, { url: 'http://a:1', token: 'secret' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readConfigFile(path)).toEqual({ url: 'http://a:1', token: 'secret' });
    chmodSync(path, 0o644);
    expect(() => readConfigFile(path)).toThrow(/readable by others.*chmod 600/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"token": 5}', { mode: 0o600 });
    expect(() => readConfigFile(bad)).toThrow(/"token" must be a string/);
  });

  it('login stores url, token and tenant', async () => {
    const path = join(dir, 'login.json');
    const out = io({ STRATA_CONFIG: path });
    expect(await runCli(['login', '--url', 'http://api:9', '--token', 'strata_t', '--tenant', 'acme'], out)).toBe(EXIT.ok);
    expect(readConfigFile(path)).toEqual({ url: 'http://api:9', token: 'strata_t', tenant: 'acme' });
  });

  it('exits 4 without a token', async () => {
    const out = io({ STRATA_URL: 'http://127.0.0.1:1' });
    expect(await runCli(['scans', 'status', 'x'], out)).toBe(EXIT.auth);
    expect(out.err.join('')).toMatch(/no token/);
  });
});

describe('api answers', () => {
  const answer = (status: number, body: unknown) => async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } });
  const client = (fetchImpl: typeof fetch) => new ApiClient({ url: 'http://api', token: 'strata_t', tenant: 'acme' }, fetchImpl);

  it.each([
    [400, EXIT.refused], [404, EXIT.refused], [409, EXIT.refused], [422, EXIT.refused], [401, EXIT.auth], [403, EXIT.auth], [500, EXIT.unavailable], [503, EXIT.unavailable],
  ])('maps %i to exit %i with the problem detail and where', async (status, exitCode) => {
    const problem = { title: 'Bad', detail: 'the thing is wrong', errors: [{ field: 'body.policy.idleDays', reason: 'too small' }] };
    const error = await client(answer(status, problem) as unknown as typeof fetch).json('GET', '/x').then(() => { throw new Error('expected a refusal'); }, (e: CliError) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(exitCode);
    expect(error.message).toContain(`GET /x: ${status} Bad: the thing is wrong`);
    expect(error.message).toContain('body.policy.idleDays: too small');
  });

  it('maps an unreachable api to exit 3', async () => {
    const error = await new ApiClient({ url: 'http://127.0.0.1:1', token: 'strata_t' }).json('GET', '/x').then(() => { throw new Error('expected a refusal'); }, (e: CliError) => e);
    expect(error.exitCode).toBe(EXIT.unavailable);
    expect(error.message).toMatch(/cannot reach the strata api at http:\/\/127\.0\.0\.1:1/);
  });

  it('sends the bearer token, the tenant header and a JSON body', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fetchImpl = (async (url: URL, init: RequestInit) => { seen.push({ url: String(url), init }); return new Response('{"ok":true}'); }) as unknown as typeof fetch;
    expect(await client(fetchImpl).json('POST', '/tiering/plans', { body: { a: 1 }, query: { limit: 5, skip: undefined } })).toEqual({ ok: true });
    expect(seen[0].url).toBe('http://api/api/v1/tiering/plans?limit=5');
    expect(seen[0].init.headers).toMatchObject({ authorization: 'Bearer strata_t', 'x-tenant-code': 'acme', 'content-type': 'application/json' });
    expect(seen[0].init.body).toBe('{"a":1}');
  });
});

describe('formatting', () => {
  it('aligns tables and shows missing values as -', () => {
    expect(table([{ a: 'x', b: null }, { a: 'longer', b: 2 }], [['a', 'name'], ['b', 'n']])).toBe('NAME    N\nx       -\nlonger  2');
    expect(table([], [['a', 'a']])).toBe('(none)');
  });

  it('draws progress bars and byte sizes', () => {
    expect(progressBar(5, 10, 10)).toBe('[#####.....]  50%  5/10');
    expect(progressBar(12, 10, 4)).toBe('[####] 100%  12/10');
    expect(progressBar(3, null)).toBe('3 done');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });

  it('parses grants for remediation', () => {
    expect(parseGrant('group:staff=rx')).toEqual({ principal: 'group:staff', access: 'rx' });
    expect(() => parseGrant('group:staff')).toThrow(/<principal>=<access>/);
    expect(() => parseGrant('group:staff=write')).toThrow(/one of r, rw, rwx, rx/);
  });

  it('every command has a usage line and a summary', () => {
    for (const command of COMMANDS) expect(command.summary.length).toBeGreaterThan(10);
    expect(new Set(COMMANDS.map((c) => `${c.group} ${c.action}`)).size).toBe(COMMANDS.length);
  });
});
