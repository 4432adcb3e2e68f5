// NFS /etc/exports (and exports.d/*.exports) as exportfs reads it: a path (quoted or
// with octal escapes like \040), then clients with options in parentheses, `-opts`
// defaults, `#` comments and backslash continuations. A lone `(opts)` means everyone.
export interface NfsClientOptions {
  rw: boolean; rootSquash: boolean; allSquash: boolean; anonuid: number | null; anongid: number | null;
  secure: boolean; sync: boolean; subtreeCheck: boolean; sec: string[]; other: Record<string, string | true>;
}

export interface NfsClient { client: string; options: NfsClientOptions; everyone: boolean }
export interface NfsExport { path: string; clients: NfsClient[]; line: number }
export interface ExportsConfig { exports: NfsExport[]; warnings: string[] }

export const DEFAULT_NFS_OPTIONS: NfsClientOptions = {
  rw: false, rootSquash: true, allSquash: false, anonuid: null, anongid: null, secure: true, sync: true, subtreeCheck: false, sec: ['sys'], other: {},
};

export function parseExports(text: string, file = '/etc/exports'): ExportsConfig {
  const exports: NfsExport[] = [];
  const warnings: string[] = [];
  for (const { line, number } of logicalLines(text)) {
    const tokens = tokenize(line);
    const rawPath = tokens.shift();
    if (!rawPath) continue;
    const path = unescapeOctal(rawPath);
    if (!path.startsWith('/')) {
      warnings.push(`${file}:${number}: export path ${JSON.stringify(path)} is not absolute, skipped`);
      continue;
    }
    let defaults: NfsClientOptions = { ...DEFAULT_NFS_OPTIONS, sec: [...DEFAULT_NFS_OPTIONS.sec], other: {} };
    const clients: NfsClient[] = [];
    for (const token of tokens) {
      if (token.startsWith('-')) {
        defaults = applyOptions(defaults, token.slice(1));
        continue;
      }
      const open = token.indexOf('(');
      const host = open < 0 ? token : token.slice(0, open);
      if (open >= 0 && !token.endsWith(')')) warnings.push(`${file}:${number}: unbalanced options in ${token}`);
      const options = open < 0 ? defaults : applyOptions(defaults, token.slice(open + 1, token.endsWith(')') ? -1 : undefined));
      if (host === '') warnings.push(`${file}:${number}: options ${token} without a host apply to everyone (a space before "("?)`);
      const client = host === '' ? '*' : host;
      clients.push({ client, options, everyone: isEveryone(client) });
    }
    if (clients.length === 0) clients.push({ client: '*', options: defaults, everyone: true });
    exports.push({ path: path.length > 1 ? path.replace(/\/+$/, '') : path, clients, line: number });
  }
  return { exports, warnings };
}

function* logicalLines(text: string): Generator<{ line: string; number: number }> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const number = i + 1;
    let line = stripComment(lines[i]);
    while (/\\\s*$/.test(lines[i]) && i + 1 < lines.length) {
      line = `${line.replace(/\\\s*$/, '')} ${stripComment(lines[i + 1])}`;
      i += 1;
    }
    if (line.trim()) yield { line: line.trim(), number };
  }
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    if (line[i] === '"') quoted = !quoted;
    if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

/** Splits on whitespace outside double quotes; quotes are removed. */
function tokenize(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1] : m[2]));
}

function unescapeOctal(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function applyOptions(base: NfsClientOptions, list: string): NfsClientOptions {
  const options: NfsClientOptions = { ...base, sec: [...base.sec], other: { ...base.other } };
  for (const raw of list.split(',').map((o) => o.trim()).filter(Boolean)) {
    const [name, value] = raw.split('=', 2);
    switch (name) {
      case 'rw': options.rw = true; break;
      case 'ro': options.rw = false; break;
      case 'root_squash': options.rootSquash = true; break;
      case 'no_root_squash': options.rootSquash = false; break;
      case 'all_squash': options.allSquash = true; break;
      case 'no_all_squash': options.allSquash = false; break;
      case 'secure': options.secure = true; break;
      case 'insecure': options.secure = false; break;
      case 'sync': options.sync = true; break;
      case 'async': options.sync = false; break;
      case 'subtree_check': options.subtreeCheck = true; break;
      case 'no_subtree_check': options.subtreeCheck = false; break;
      case 'anonuid': options.anonuid = Number(value); break;
      case 'anongid': options.anongid = Number(value); break;
      case 'sec': options.sec = (value ?? '').split(':').filter(Boolean); break;
      default: options.other[name] = value ?? true;
    }
  }
  return options;
}

/** A client spec that admits any host: `*`, a bare wildcard, or a network of /8 or wider. */
export function isEveryone(client: string): boolean {
  if (client === '*' || client === '' || /^\*\.?\*?$/.test(client)) return true;
  const cidr = /\/(\d+)$/.exec(client);
  if (cidr) return Number(cidr[1]) <= (client.includes(':') ? 16 : 8);
  return client === '0.0.0.0' || client === '::';
}
