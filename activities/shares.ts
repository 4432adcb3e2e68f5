// Share enumeration on a host: parse smb.conf and the exports files, map each share
// to its root inode, store them, and record the host's users and groups.
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { upsertShares } from '../db/queries/shares';
import { replacePrincipals } from '../db/queries/index';
import { parseExports, type ExportsConfig } from '../lib/share-config-exports';
import { parseSmbConf } from '../lib/share-config-smb';
import { sharesFromConfigs } from '../lib/share-config';
import { PrincipalDirectory, type PrincipalPaths } from './acl-principals';
import { FileSystemError } from './errors';
import * as ffi from './ffi';

export interface ShareSources { smbConfPath?: string | null; exportsPath?: string | null; exportsDir?: string | null; serverName?: string }

export interface EnumerateSharesInput { tenantId: string; hostId: string; volume: string; sources?: ShareSources; principals?: PrincipalPaths }
export interface EnumeratedShare { id: number; protocol: string; name: string; localPath: string; rootFileRef: number | null; inVolume: boolean }
export interface EnumerateSharesResult { shares: EnumeratedShare[]; warnings: string[]; users: number; groups: number }

export async function enumerateShares(pool: Pool, input: EnumerateSharesInput): Promise<EnumerateSharesResult> {
  const sources = input.sources ?? {};
  const warnings: string[] = [];
  const smb = readConfig(sources.smbConfPath === undefined ? '/etc/samba/smb.conf' : sources.smbConfPath, warnings,
    (text, file) => parseSmbConf(text, { file }));
  const exportsConfig = readExports(sources, warnings);
  warnings.push(...(smb?.warnings ?? []), ...(exportsConfig?.warnings ?? []));
  const definitions = sharesFromConfigs(sources.serverName ?? hostname(), smb, exportsConfig);
  const volume = input.volume.replace(/\/+$/, '') || '/';
  const mapped = definitions.map((share) => {
    const inVolume = share.localPath === volume || share.localPath.startsWith(volume === '/' ? '/' : `${volume}/`);
    return { ...share, volume: inVolume ? volume : null, rootFileRef: rootInode(share.localPath, warnings, share.name) };
  });
  const principals = PrincipalDirectory.load(input.principals);
  const stored = await withTenant(pool, { tenantId: input.tenantId, role: 'strata_indexer' }, async (client) => {
    await replacePrincipals(client, input.tenantId, input.hostId, [
      ...principals.users.map((u) => ({ kind: 'user' as const, id: u.uid, name: u.name, gids: principals.groupIdsOf(u) })),
      ...principals.groups.map((g) => ({ kind: 'group' as const, id: g.gid, name: g.name, gids: [] })),
    ]);
    return upsertShares(client, input.tenantId, input.hostId, mapped);
  });
  const shares = stored.map((row) => {
    const share = mapped.find((m) => m.protocol === row.protocol && m.name === row.name)!;
    return { id: row.id, protocol: row.protocol, name: row.name, localPath: row.localPath, rootFileRef: share.rootFileRef, inVolume: share.volume !== null };
  });
  return { shares, warnings, users: principals.users.length, groups: principals.groups.length };
}

function readConfig<T>(path: string | null, warnings: string[], parse: (text: string, file: string) => T): T | null {
  if (path === null) return null;
  try {
    return parse(readFileSync(path, 'utf8'), path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    warnings.push(`cannot read ${path}: ${(error as Error).message}`);
    return null;
  }
}

function readExports(sources: ShareSources, warnings: string[]): ExportsConfig | null {
  const files = sources.exportsPath === null ? [] : [sources.exportsPath ?? '/etc/exports'];
  const dir = sources.exportsDir === undefined ? '/etc/exports.d' : sources.exportsDir;
  if (dir) {
    try {
      files.push(...readdirSync(dir).filter((name) => name.endsWith('.exports')).sort().map((name) => join(dir, name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warnings.push(`cannot list ${dir}: ${(error as Error).message}`);
    }
  }
  const parsed = files.map((file) => readConfig(file, warnings, (text) => parseExports(text, file))).filter((c): c is ExportsConfig => c !== null);
  if (parsed.length === 0) return null;
  return { exports: parsed.flatMap((c) => c.exports), warnings: parsed.flatMap((c) => c.warnings) };
}

function rootInode(localPath: string, warnings: string[], name: string): number | null {
  if (!localPath.startsWith('/')) return null;
  try {
    return Number(ffi.lstatx(localPath).ino);
  } catch (error) {
    if (error instanceof FileSystemError) {
      warnings.push(`share ${name}: ${error.message}`);
      return null;
    }
    throw error;
  }
}
