// The CLI's only way to act: the strata HTTP API with a bearer token. Answers of
// the api's problem+json shape become CliErrors with the exit code for their class.
import { CliError, EXIT } from './errors';
import type { CliConfig } from './config';

export type Query = Record<string, string | number | boolean | undefined>;

interface Problem { title?: string; detail?: string; errors?: { field?: string; line?: number; column?: number; reason: string }[] }

export class ApiClient {
  constructor(private readonly config: CliConfig, private readonly fetchImpl: typeof fetch = fetch) {}

  async json<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** A body as it comes (CSV reports), with its headers. */
  async text(path: string, query?: Query): Promise<{ body: string; headers: Headers }> {
    const response = await this.send('GET', path, { query });
    return { body: await response.text(), headers: response.headers };
  }

  private async send(method: string, path: string, options: { body?: unknown; query?: Query }): Promise<Response> {
    if (!this.config.token) {
      throw new CliError(EXIT.auth, 'no token: set STRATA_TOKEN, pass --token, or run `strata login --token <token>`');
    }
    const url = new URL(`${this.config.url}/api/v1${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.config.token}`, accept: 'application/json, text/csv' };
    if (this.config.tenant) headers['x-tenant-code'] = this.config.tenant;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new CliError(EXIT.unavailable, `cannot reach the strata api at ${this.config.url} (${cause})`);
    }
    if (response.ok) return response;
    throw await errorFrom(method, path, response);
  }
}

async function errorFrom(method: string, path: string, response: Response): Promise<CliError> {
  const text = await response.text();
  let problem: Problem = {};
  try { problem = JSON.parse(text) as Problem; } catch { problem = { detail: text.slice(0, 300) }; }
  const where = (problem.errors ?? []).map((e) => `  - ${[e.field, e.line !== undefined ? `line ${e.line}` : '', e.column !== undefined ? `column ${e.column}` : '']
    .filter(Boolean).join(' ')}: ${e.reason}`);
  const message = [`${method} ${path}: ${response.status} ${problem.title ?? response.statusText}: ${problem.detail ?? '(no detail)'}`, ...where].join('\n');
  const code = response.status === 401 || response.status === 403 ? EXIT.auth : response.status >= 500 ? EXIT.unavailable : EXIT.refused;
  return new CliError(code, message);
}
