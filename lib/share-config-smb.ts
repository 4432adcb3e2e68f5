// Samba smb.conf as Samba reads it: [sections], `name = value` with case- and
// space-insensitive names, `#`/`;` comments, `\` continuation lines, `include =`,
// `copy =`, [global] defaults and the usual synonyms (writable, public, directory).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface SmbShare {
  name: string; path: string | null; comment: string | null; readOnly: boolean; guestOk: boolean; guestOnly: boolean;
  browseable: boolean; available: boolean; printable: boolean; validUsers: string[]; invalidUsers: string[];
  readList: string[]; writeList: string[]; hostsAllow: string[]; hostsDeny: string[]; forceUser: string | null;
  createMask: string | null; directoryMask: string | null;
}

export interface SmbConfig { shares: SmbShare[]; global: Record<string, string>; warnings: string[] }

const SYNONYMS: Record<string, string> = {
  directory: 'path', public: 'guestok', browsable: 'browseable', allowhosts: 'hostsallow', denyhosts: 'hostsdeny',
  createmode: 'createmask', directorymode: 'directorymask', onlyguest: 'guestonly', printok: 'printable',
};
const INVERTED: Record<string, string> = { writeable: 'readonly', writable: 'readonly', writeok: 'readonly' };
const SPECIAL = new Set(['global']);

type Section = { name: string; params: Map<string, string> };

export function parseSmbConf(text: string, options: { file?: string; readInclude?: (path: string) => string } = {}): SmbConfig {
  const warnings: string[] = [];
  const sections: Section[] = [{ name: 'global', params: new Map() }];
  const readInclude = options.readInclude ?? ((path: string) => readFileSync(path, 'utf8'));
  readInto(text, options.file ?? 'smb.conf', sections, warnings, readInclude, 0);
  const global = sections.filter((s) => s.name === 'global').reduce((all, s) => new Map([...all, ...s.params]), new Map<string, string>());
  const merged = new Map<string, Section>();
  for (const section of sections) {
    if (SPECIAL.has(section.name)) continue;
    const existing = merged.get(section.name.toLowerCase());
    if (existing) for (const [k, v] of section.params) existing.params.set(k, v);
    else merged.set(section.name.toLowerCase(), { name: section.name, params: new Map(section.params) });
  }
  for (const section of merged.values()) applyCopy(section, merged, warnings);
  const shares = [...merged.values()].map((section) => toShare(section.name, new Map([...global, ...section.params])))
    .filter((share) => {
      if (share.name.toLowerCase() === 'printers' || share.printable) return false;
      if (!share.available) warnings.push(`[${share.name}]: available = no, skipped`);
      if (share.path === null || share.path.includes('%')) warnings.push(`[${share.name}]: no fixed path (${share.path ?? 'none'}), not mapped to the index`);
      return share.available;
    });
  return { shares, global: Object.fromEntries(global), warnings };
}

function readInto(text: string, file: string, sections: Section[], warnings: string[], readInclude: (path: string) => string, depth: number): void {
  for (const { line, number } of logicalLines(text)) {
    const where = `${file}:${number}`;
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      sections.push({ name: header[1].trim(), params: new Map() });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      warnings.push(`${where}: ignored line without "=": ${JSON.stringify(line)}`);
      continue;
    }
    const key = normalizeKey(line.slice(0, eq));
    const value = line.slice(eq + 1).trim();
    if (key === 'include') {
      if (value.includes('%')) warnings.push(`${where}: include with substitutions ${value} not followed`);
      else if (depth >= 10) warnings.push(`${where}: include nesting too deep at ${value}`);
      else {
        const target = resolve(dirname(file), value);
        try {
          readInto(readInclude(target), target, sections, warnings, readInclude, depth + 1);
        } catch (error) {
          warnings.push(`${where}: cannot include ${target}: ${(error as Error).message}`);
        }
      }
      continue;
    }
    const current = sections[sections.length - 1];
    if (INVERTED[key]) current.params.set(INVERTED[key], String(!bool(value, false)));
    else current.params.set(SYNONYMS[key] ?? key, value);
  }
}

/** Physical lines joined at trailing backslashes, with comments and blanks dropped. */
function* logicalLines(text: string): Generator<{ line: string; number: number }> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const number = i + 1;
    let line = lines[i].trim();
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      line = `${line.slice(0, -1).trimEnd()} ${lines[i].trim()}`.trim();
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    yield { line, number };
  }
}

function normalizeKey(raw: string): string {
  return raw.toLowerCase().replace(/\s+/g, '');
}

function applyCopy(section: Section, all: Map<string, Section>, warnings: string[]): void {
  const source = section.params.get('copy');
  if (!source) return;
  const from = all.get(source.toLowerCase());
  if (!from) {
    warnings.push(`[${section.name}]: copy = ${source} names no section`);
    return;
  }
  section.params = new Map([...from.params, ...section.params]);
  section.params.delete('copy');
}

export function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.trim().toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(v)) return true;
  if (['no', 'false', '0', 'off'].includes(v)) return false;
  return fallback;
}

/** Samba user lists: separated by commas or spaces, names with spaces in double quotes. */
export function userList(value: string | undefined): string[] {
  if (!value) return [];
  return [...value.matchAll(/"([^"]*)"|([^\s,"]+)/g)].map((m) => m[1] ?? m[2]).filter(Boolean);
}

function toShare(name: string, params: Map<string, string>): SmbShare {
  const path = params.get('path');
  return {
    name, path: path ? path.replace(/\/+$/, '') || '/' : null, comment: params.get('comment') ?? null,
    readOnly: bool(params.get('readonly'), true), guestOk: bool(params.get('guestok'), false),
    guestOnly: bool(params.get('guestonly'), false), browseable: bool(params.get('browseable'), true),
    available: bool(params.get('available'), true), printable: bool(params.get('printable'), false),
    validUsers: userList(params.get('validusers')), invalidUsers: userList(params.get('invalidusers')),
    readList: userList(params.get('readlist')), writeList: userList(params.get('writelist')),
    hostsAllow: userList(params.get('hostsallow')), hostsDeny: userList(params.get('hostsdeny')),
    forceUser: params.get('forceuser') ?? null, createMask: params.get('createmask') ?? null, directoryMask: params.get('directorymask') ?? null,
  };
}
