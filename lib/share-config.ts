// Shares as the index stores them, from smb.conf and exports, and the share risk
// score: exposure at the share level plus the share of world-readable files.
import type { ExportsConfig, NfsClient } from './share-config-exports';
import type { SmbConfig } from './share-config-smb';

export interface ShareDefinition {
  protocol: 'smb' | 'nfs'; name: string; uncPath: string; localPath: string; remark: string | null;
  permissions: Record<string, unknown>;
}

export function sharesFromConfigs(host: string, smb: SmbConfig | null, exportsConfig: ExportsConfig | null): ShareDefinition[] {
  const shares: ShareDefinition[] = [];
  for (const share of smb?.shares ?? []) {
    shares.push({
      protocol: 'smb', name: share.name, uncPath: `\\\\${host}\\${share.name}`, localPath: share.path ?? '', remark: share.comment,
      permissions: {
        readOnly: share.readOnly, guestOk: share.guestOk, guestOnly: share.guestOnly, browseable: share.browseable,
        validUsers: share.validUsers, invalidUsers: share.invalidUsers, readList: share.readList, writeList: share.writeList,
        hostsAllow: share.hostsAllow, hostsDeny: share.hostsDeny, forceUser: share.forceUser,
      },
    });
  }
  for (const entry of exportsConfig?.exports ?? []) {
    shares.push({
      protocol: 'nfs', name: entry.path, uncPath: `${host}:${entry.path}`, localPath: entry.path, remark: null,
      permissions: { clients: entry.clients.map((c) => ({ client: c.client, everyone: c.everyone, ...c.options })) },
    });
  }
  return shares;
}

export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export interface ShareRisk { score: number; level: RiskLevel; factors: string[] }

/**
 * 0-100: up to 50 points for the fraction of world-readable files, plus share-level
 * exposure (guest access, export to everyone, writable by anyone, no root squash).
 */
export function shareRisk(share: Pick<ShareDefinition, 'protocol' | 'permissions'>, files: number, worldFiles: number): ShareRisk {
  const factors: string[] = [];
  let score = 0;
  const add = (points: number, factor: string) => { score += points; factors.push(factor); };
  if (files > 0 && worldFiles > 0) add(Math.max(1, Math.round((50 * worldFiles) / files)), `${worldFiles} of ${files} files readable by everyone`);
  const p = share.permissions as Record<string, unknown>;
  if (share.protocol === 'smb') {
    const anyUser = ((p.validUsers ?? []) as string[]).length === 0;
    if (p.guestOk) add(30, 'guest access allowed');
    if (!p.readOnly && (p.guestOk || anyUser)) add(10, 'writable without a valid users list');
    else if (!p.guestOk && anyUser) add(5, 'no valid users list');
  } else {
    const clients = (p.clients ?? []) as (NfsClient['options'] & { everyone: boolean; client: string })[];
    if (clients.some((c) => c.everyone)) add(25, 'exported to every host');
    if (clients.some((c) => c.everyone && c.rw)) add(10, 'writable by every host');
    if (clients.some((c) => !c.rootSquash && !c.allSquash)) add(15, 'no_root_squash');
    if (clients.some((c) => !c.secure)) add(5, 'insecure ports accepted');
  }
  score = Math.min(100, score);
  const level: RiskLevel = score >= 75 ? 'CRITICAL' : score >= 50 ? 'HIGH' : score >= 25 ? 'MEDIUM' : 'LOW';
  return { score, level, factors };
}
