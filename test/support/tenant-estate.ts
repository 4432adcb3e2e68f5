// A tenant with something in nearly every tenant table, made through the real
// api and workflows: a scan ingested from chunks, access updates, a tiering share
// with credentials and a plan, a bootstrapped index, a sanitize dry run, a
// remediation dry run, and its own limits. Every name carries a marker string
// that must never show up in another tenant's answers.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Harness } from './harness';
import type { TestTenant } from './tenants';
import { buildSampleTree, sampleShareConfigs } from './index-fixtures';
import { newScanGuid, putChunk, seal, waitForScanEnd } from './ingest-helpers';
import { buildTree, configureShare, loadScan, makeRoots, planShare, scanRowsOf, type Roots } from './tiering-tree';

export interface Estate {
  marker: string; shareName: string; scanGuid: string; planId: string; indexId: string; volume: string; volumeId: string;
  sanitizeId: string; remediationId: string; roots: Roots; filePath: string;
}

async function expectStatus(what: string, response: { statusCode: number; body: string }, status: number): Promise<void> {
  if (response.statusCode !== status) throw new Error(`${what}: ${response.statusCode} ${response.body}`);
}

export async function buildEstate(harness: Harness, tenant: TestTenant, install: string, agent: string): Promise<Estate> {
  const marker = `mk${randomBytes(5).toString('hex')}`;
  const app = harness.app;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const shareName = `share-${marker}`;
  const roots = makeRoots(`estate-${marker}`);
  const files = Array.from({ length: 12 }, (_v, i) => ({ relPath: `${marker}-file-${i}.txt`, size: 16, idleDays: 400 }));
  buildTree(roots.source, files);
  await loadScan(harness.pool, tenant.tenantId, shareName, scanRowsOf(roots.source, files));
  await configureShare(app, tenant.adminToken, shareName, { hostId: harness.hostId, roots, credentials: { secret: `credential-${marker}` } });
  const { planId } = await planShare(app, harness.temporal, tenant.adminToken, shareName);

  const scanGuid = newScanGuid();
  const rows = Array.from({ length: 20 }, (_v, i) => `C:\\${marker}\\dir${i % 3},${marker}-${i}.doc,${i},1600000000,1600000000,1600000000`).join('\n');
  await expectStatus('chunk', await putChunk(app, { guid: scanGuid, seq: 0, token: agent, body: `${rows}\n` }), 202);
  await expectStatus('seal', await seal(app, agent, scanGuid, 1), 202);
  await waitForScanEnd(app, agent, scanGuid);

  const volumeId = `vol-${marker}`;
  const filePath = `C:\\${marker}\\dir1\\${marker}-1.doc`;
  const access = await app.inject({
    method: 'POST', url: '/api/v1/audit-updates', headers: { ...auth(agent), 'x-volume-id': volumeId },
    payload: { events: [{ file_path: filePath, new_last_accessed: 1_700_000_000, audit_file: `${marker}.log`, audit_event_id: `${marker}-e1` }] },
  });
  await expectStatus('access updates', access, 202);

  const work = join(roots.base, 'index');
  mkdirSync(work);
  const volume = join(work, 'volume');
  buildSampleTree(volume);
  const index = await app.inject({
    method: 'POST', url: '/api/v1/index/bootstrap', headers: auth(tenant.adminToken),
    payload: { hostId: harness.hostId, volume, shareSources: { ...sampleShareConfigs(work, volume), exportsDir: null } },
  });
  await expectStatus('index bootstrap', index, 202);
  const indexId = index.json().id as string;
  await harness.temporal.workflow.getHandle(indexId).result();

  const sanitize = await app.inject({ method: 'POST', url: '/api/v1/sanitize', headers: auth(tenant.adminToken), payload: { share: shareName, dryRun: true } });
  await expectStatus('sanitize', sanitize, 202);
  await harness.temporal.workflow.getHandle(sanitize.json().workflowId).result();

  const remediation = await app.inject({
    method: 'POST', url: '/api/v1/remediation/plans', headers: auth(tenant.adminToken),
    payload: { scope: { host: harness.hostId, pathPrefix: volume }, policy: { add: [{ principal: 'user:nobody', access: 'r' }] }, options: { dryRun: true } },
  });
  await expectStatus('remediation plan', remediation, 202);
  await harness.temporal.workflow.getHandle(remediation.json().workflowId).result();

  await expectStatus('limits', await app.inject({
    method: 'PUT', url: `/api/v1/tenants/${tenant.code}/limits`, headers: auth(install), payload: { maxConcurrentUploads: 7 },
  }), 200);
  return {
    marker, shareName, scanGuid, planId, indexId, volume, volumeId, sanitizeId: sanitize.json().id, remediationId: remediation.json().id, roots, filePath,
  };
}
