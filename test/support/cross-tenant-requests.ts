// Requests of one tenant aimed at another tenant's things: for any route of the
// app, its path parameters filled with the victim's identifiers, a body that names
// them, and queries that search for them. Routes nobody listed here still get a
// request (parameters "x", body {}), so new routes are never skipped.
import type { RouteEntry } from '../../api/route-catalog';
import type { Estate } from './tenant-estate';

export interface Victim { code: string; tenantId: string; tokenId: string; estate: Estate; hostId: string }
export interface CrossRequest { method: string; url: string; payload?: unknown; headers?: Record<string, string> }

function paramValue(name: string, route: string, v: Victim): string {
  const e = v.estate;
  const byName: Record<string, string> = {
    scanGuid: e.scanGuid, seq: '0', code: v.code, planId: e.planId, actionId: e.planId, shareName: e.shareName, signal: 'pause',
  };
  if (name === 'id') {
    if (route.startsWith('/api/v1/tokens')) return v.tokenId;
    if (route.startsWith('/api/v1/sanitize')) return e.sanitizeId;
    if (route.startsWith('/api/v1/remediation')) return e.remediationId;
    if (route.startsWith('/api/v1/index')) return e.indexId;
  }
  return byName[name] ?? 'x';
}

function bodyFor(key: string, v: Victim): CrossRequest['payload'] {
  const e = v.estate;
  const bodies: Record<string, unknown> = {
    'POST /api/v1/tenants': { code: v.code, name: 'taken over' },
    'POST /api/v1/tenants/:code/tokens': { userName: 'intruder', role: 'admin' },
    'PUT /api/v1/tenants/:code/limits': { requestsPerSecond: 1 },
    'PUT /api/v1/scans/:scanGuid/chunks/:seq': 'C:\\intruder,own.txt,1,1600000000,1600000000,1600000000\n',
    'POST /api/v1/scans/:scanGuid/seal': { totalChunks: 1 },
    'POST /api/v1/audit-updates': { events: [{ file_path: e.filePath, new_last_accessed: 1_800_000_000, audit_file: 'x.log', audit_event_id: 'intruder-1' }] },
    'PUT /api/v1/tiering/shares/:shareName': { source: { hostId: 'intruder-host', rootPath: '/srv/intruder' }, target: { uri: 'file:///srv/intruder-tier2' } },
    'POST /api/v1/tiering/plans': { shareName: e.shareName },
    'POST /api/v1/tiering/rehydrate': { shareName: e.shareName, planId: e.planId },
    'POST /api/v1/sanitize': { share: e.shareName, dryRun: true },
    'POST /api/v1/sanitize/:id/approvals': { decision: 'approve', reportHash: 'a'.repeat(64) },
    'POST /api/v1/index/bootstrap': { hostId: 'intruder-host', volume: e.volume },
    'POST /api/v1/index/changes': { hostId: v.hostId, volume: e.volume, events: [{ type: 'delete', path: `${e.volume}/x` }] },
    'POST /api/v1/remediation/plans': { scope: { share: e.shareName }, policy: { remove: ['user:nobody'] }, options: { dryRun: true } },
    'POST /api/v1/remediation/:id/execute': { reportHash: 'a'.repeat(64) },
    'POST /api/v1/remediation/:id/rollback': {},
  };
  return bodies[key] ?? {};
}

function queryFor(url: string, v: Victim): string {
  const e = v.estate;
  const queries: Record<string, string> = {
    '/api/v1/browse': `host=${v.hostId}&volume=${encodeURIComponent(e.volume)}`,
    '/api/v1/shares': '',
    '/api/v1/audit/events': `path=${encodeURIComponent(e.filePath)}`,
    '/api/v1/audit/world-access': `host=${v.hostId}&volume=${encodeURIComponent(e.volume)}`,
    '/api/v1/audit/accessible-by': `principal=user:nobody&host=${v.hostId}`,
    '/api/v1/audit/drift': `run=${e.remediationId}`,
  };
  return queries[url] ?? '';
}

export function crossRequest(route: RouteEntry, v: Victim): CrossRequest {
  const key = `${route.method} ${route.url}`;
  const path = route.url.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(paramValue(name, route.url, v)));
  const query = route.method === 'GET' ? queryFor(route.url, v) : '';
  const request: CrossRequest = { method: route.method, url: query ? `${path}?${query}` : path };
  if (route.method !== 'GET' && route.method !== 'DELETE') {
    const payload = bodyFor(key, v);
    request.payload = payload;
    if (typeof payload === 'string') {
      request.headers = { 'content-type': 'text/csv', 'x-share-name': 'intruder', 'x-source-type': 'NTFS', 'x-scan-started': '2025-01-01T00:00:00Z' };
    }
  }
  return request;
}
