// Tiering policy: which files of a scan are idle enough to move to Tier-2
// (age by atime or mtime, minimum size, include/exclude globs, per-plan caps).

export type IdleBasis = 'atime' | 'mtime';

export interface TieringPolicy {
  idleDays: number;
  basis: IdleBasis;
  minSizeBytes: number;
  include: string[];
  exclude: string[];
  maxFiles: number | null;
  maxBytes: number | null;
}

export const DEFAULT_IDLE_DAYS = 365;

export function normalizePolicy(input: Partial<TieringPolicy> = {}): TieringPolicy {
  return {
    idleDays: input.idleDays ?? DEFAULT_IDLE_DAYS,
    basis: input.basis ?? 'atime',
    minSizeBytes: input.minSizeBytes ?? 0,
    include: [...(input.include ?? [])],
    exclude: [...(input.exclude ?? [])],
    maxFiles: input.maxFiles ?? null,
    maxBytes: input.maxBytes ?? null,
  };
}

/** Unix seconds: files whose chosen time is at or before this are idle. */
export function idleCutoff(asOf: Date, idleDays: number): number {
  return Math.floor(asOf.getTime() / 1000) - Math.round(idleDays * 86_400);
}

/**
 * A glob over '/'-joined paths below the share root: `*` and `?` stay within a
 * segment, `**` crosses segments, `[...]`/`[!...]` are classes, `{a,b}` alternates.
 * A pattern without '/' matches the file name in any folder.
 */
export function compileGlob(pattern: string, options: { nocase?: boolean } = {}): RegExp {
  if (pattern.length === 0 || pattern.length > 1024) throw new Error('a glob must have 1 to 1024 characters');
  const anchored = pattern.includes('/');
  const body = globBody(pattern.replace(/^\/+/, ''));
  return new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`, options.nocase ? 'iu' : 'u');
}

function globBody(pattern: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*' && pattern[i + 1] === '*') {
      const wholeSegment = (i === 0 || pattern[i - 1] === '/') && (pattern[i + 2] === '/' || i + 2 === pattern.length);
      if (wholeSegment && pattern[i + 2] === '/') { out += '(?:.*/)?'; i += 2; } else { out += '.*'; i += 1; }
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      const negate = pattern[i + 1] === '!' || pattern[i + 1] === '^';
      const members = pattern.slice(negate ? i + 2 : i + 1, end).replace(/[\\\]^]/g, '\\$&');
      out += negate ? `[^/${members}]` : `[${members}]`;
      i = end;
    } else if (char === '{') { out += '(?:'; depth++; }
    else if (char === '}' && depth > 0) { out += ')'; depth--; }
    else if (char === ',' && depth > 0) out += '|';
    else out += char.replace(/[.+^$()|\\{}[\]]/g, '\\$&');
  }
  if (depth !== 0) throw new Error(`unbalanced braces in glob ${JSON.stringify(pattern)}`);
  return out;
}

/** Include (any of, when given) and exclude (none of) filters over relative paths. */
export class PathFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(include: readonly string[], exclude: readonly string[], options: { nocase?: boolean } = {}) {
    this.include = include.map((glob) => compileGlob(glob, options));
    this.exclude = exclude.map((glob) => compileGlob(glob, options));
  }

  matches(relPath: string): boolean {
    if (this.include.length > 0 && !this.include.some((re) => re.test(relPath))) return false;
    return !this.exclude.some((re) => re.test(relPath));
  }
}

/** The top-level folder a relative path is reported under ('' for files in the root). */
export function topLevelFolder(relPath: string): string {
  const slash = relPath.indexOf('/');
  return slash < 0 ? '' : relPath.slice(0, slash);
}
