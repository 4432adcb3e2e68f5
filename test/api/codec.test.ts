// Payload encryption end to end, on the real stack: a bootstrap index run's history
// as the Temporal server stores it (exported by the Temporal CLI) holds only sealed
// payloads and neither the paths nor the share report in any form; the api's codec
// endpoint opens them for an install admin only (header or sign-in cookie, CORS for
// the UI), the Temporal CLI reads them through it, and rotating the payload transit
// key keeps the old history readable while new payloads use the new version.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { resolveTemporalCli } from '../../scripts/stack/binaries';
import { decodeJsonPayloads, findJsonPayloads, payloadFromJson, payloadToJson, type JsonPayload } from '../../lib/payload-json';
import { ENCRYPTED_ENCODING, METADATA_KEY_ID } from '../../lib/payload-codec';
import { PAYLOAD_TRANSIT_KEY } from '../../lib/payload-keys';
import { createPayloadCodec } from '../../temporal-config/payload-encryption';

let harness: Harness;
let tenant: TestTenant;
let installAdmin: string;
let work: string;
let workflowId: string;
let history: unknown;
const marker = `payroll${randomBytes(5).toString('hex')}`;
const UI_ORIGIN = 'http://localhost:8233';
/** The history's payloads but search attributes, which the server must index in clear. */
const sealedPayloads = (document: unknown) => findJsonPayloads(document, ['searchAttributes']);

/** A string as stored bytes could hold it: plain, and base64 at each of the three alignments. */
function forms(text: string): string[] {
  const raw = Buffer.from(text);
  return [text, ...[0, 1, 2].map((shift) => Buffer.concat([Buffer.alloc(shift), raw]).toString('base64').slice(4, -4))];
}

/** The history as the Temporal CLI exports it; asynchronous, since with a codec endpoint the CLI calls this process's api. */
async function exportHistory(extra: string[] = []): Promise<string> {
  const { stdout } = await promisify(execFile)(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', workflowId, '--address', harness.env.TEMPORAL_ADDRESS,
    '--namespace', harness.env.TEMPORAL_NAMESPACE, '--output', 'json', ...extra], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  return stdout;
}

const codecCall = (operation: string, payloads: JsonPayload[], headers: Record<string, string>) => harness.app.inject({
  method: 'POST', url: `/codec/${operation}`, headers: { 'content-type': 'application/json', ...headers }, payload: { payloads },
});

beforeAll(async () => {
  harness = await startHarness();
  installAdmin = await installAdminToken();
  tenant = await onboardViaApi(harness.app, installAdmin);
  work = mkdtempSync(join(tmpdir(), 'strata-codec-'));
  const volume = join(work, `volume-${marker}`);
  mkdirSync(join(volume, `${marker}-salaries`), { recursive: true });
  writeFileSync(join(volume, `${marker}-salaries`, 'q3.xlsx'), 'x'.repeat(100));
  const smbConfPath = join(work, 'smb.conf');
  writeFileSync(smbConfPath, `[global]\n  workgroup = TEST\n[${marker}]\n  path = ${volume}/${marker}-salaries\n  guest ok = yes\n`);
  const response = await harness.app.inject({
    method: 'POST', url: '/api/v1/index/bootstrap', headers: { authorization: `Bearer ${tenant.adminToken}` },
    payload: { hostId: harness.hostId, volume, shareSources: { smbConfPath, exportsPath: null, exportsDir: null, serverName: 'srv1' } },
  });
  expect(response.statusCode).toBe(202);
  workflowId = response.json().id;
  const result = await harness.temporal.workflow.getHandle(workflowId).result();
  expect(JSON.stringify(result)).toContain(marker);
  history = JSON.parse(await exportHistory());
}, 180_000);

afterAll(async () => {
  await harness.close();
  rmSync(work, { recursive: true, force: true });
});

describe('workflow history in the Temporal server', () => {
  it('holds only sealed payloads, naming the payload transit key', () => {
    expect(harness.payloadCodec).toBeDefined();
    const payloads = sealedPayloads(history);
    expect(payloads.length).toBeGreaterThanOrEqual(6);
    for (const payload of payloads) {
      const decoded = payloadFromJson(payload);
      expect(Buffer.from(decoded.metadata!.encoding).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(decoded.metadata![METADATA_KEY_ID]).toString()).toMatch(new RegExp(`^${PAYLOAD_TRANSIT_KEY}:v\\d+:[0-9a-f]{16}$`));
    }
  });

  it('holds neither the paths nor the share report in any payload, in plain text or base64', () => {
    const payloads = sealedPayloads(history);
    const raw = JSON.stringify(payloads) + payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('latin1')).join('');
    for (const form of forms(marker)) expect(raw).not.toContain(form);
    for (const form of forms('json/plain')) expect(raw).not.toContain(form);
  });

  it('opens, through the codec, to the inputs and results the workers saw', async () => {
    const opened = await decodeJsonPayloads(structuredClone(history), harness.payloadCodec!);
    const values = sealedPayloads(opened).map((p) => defaultPayloadConverter.fromPayload(payloadFromJson(p)));
    expect(JSON.stringify(values)).toContain(`${marker}-salaries`);
    expect(JSON.stringify(values)).toContain(`"name":"${marker}"`);
  });
});

describe('codec endpoint', () => {
  const sealed = () => sealedPayloads(history).slice(0, 3);

  it('decodes for an install admin, in the Temporal UI protocol', async () => {
    const response = await codecCall('decode', sealed(), { authorization: `Bearer ${installAdmin}`, 'x-namespace': harness.env.TEMPORAL_NAMESPACE });
    expect(response.statusCode).toBe(200);
    const payloads = response.json().payloads as JsonPayload[];
    expect(payloads).toHaveLength(3);
    expect(payloads.map((p) => Buffer.from(p.metadata!.encoding, 'base64').toString())).toEqual(['json/plain', 'json/plain', 'json/plain']);
    expect(payloads.map((p) => Buffer.from(p.data!, 'base64').toString()).join('')).toContain(marker);
  });

  it('encodes so that the workers can read it back', async () => {
    const plain = payloadToJson(defaultPayloadConverter.toPayload({ signal: marker }));
    const encoded = await codecCall('encode', [plain], { authorization: `Bearer ${installAdmin}` });
    expect(encoded.statusCode).toBe(200);
    const [sealedPayload] = encoded.json().payloads as JsonPayload[];
    expect(Buffer.from(sealedPayload.metadata!.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealedPayload.data!, 'base64').toString('latin1')).not.toContain(marker);
    const [back] = await harness.payloadCodec!.decode([payloadFromJson(sealedPayload)]);
    expect(defaultPayloadConverter.fromPayload(back)).toEqual({ signal: marker });
  });

  it('answers 401 without a token and 403 to a tenant admin, with CORS headers the UI can read', async () => {
    const anonymous = await codecCall('decode', sealed(), { origin: UI_ORIGIN });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(anonymous.body).not.toContain(marker);
    const tenantAdmin = await codecCall('decode', sealed(), { authorization: `Bearer ${tenant.adminToken}` });
    expect(tenantAdmin.statusCode).toBe(403);
    expect(tenantAdmin.body).not.toContain(marker);
  });

  it('answers the preflight for the UI origin only', async () => {
    const allowed = await harness.app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST' } });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': UI_ORIGIN, 'access-control-allow-credentials': 'true' });
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/Authorization.*X-Namespace/);
    const foreign = await harness.app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses another namespace, malformed payloads and payloads it cannot open, with 400', async () => {
    const auth = { authorization: `Bearer ${installAdmin}` };
    expect((await codecCall('decode', sealed(), { ...auth, 'x-namespace': 'someone-else' })).json().detail).toMatch(/serves Temporal namespace/);
    const malformed = await codecCall('decode', [{ metadata: { encoding: '%%%' }, data: '' }], auth);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().detail).toMatch(/payloads\.0\.metadata\.encoding: must be standard base64/);
    const [first] = sealed();
    const data = Buffer.from(first.data!, 'base64');
    data[data.length - 1] ^= 1;
    const tampered = await codecCall('decode', [{ ...first, data: data.toString('base64') }], auth);
    expect(tampered.statusCode).toBe(400);
    expect(tampered.json().detail).toMatch(/failed authentication/);
  });

  it('accepts the sign-in cookie of /codec/login in place of the header', async () => {
    const page = await harness.app.inject({ method: 'GET', url: '/codec/login' });
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const refused = await harness.app.inject({ method: 'POST', url: '/codec/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${tenant.adminToken}` });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['set-cookie']).toBeUndefined();
    const login = await harness.app.inject({ method: 'POST', url: '/codec/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${installAdmin}` });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^strata_codec=.*; Path=\/codec; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    const decoded = await codecCall('decode', sealed(), { cookie: cookie.split(';')[0], origin: UI_ORIGIN });
    expect(decoded.statusCode).toBe(200);
    expect(decoded.headers['access-control-allow-credentials']).toBe('true');
  });

  it('serves the Temporal CLI as its codec server', async () => {
    const address = await harness.app.listen({ host: '127.0.0.1', port: 0 });
    const shown = await exportHistory(['--codec-endpoint', `${address}/codec`, '--codec-auth', `Bearer ${installAdmin}`]);
    const payloads = sealedPayloads(JSON.parse(shown));
    expect(payloads.length).toBe(sealedPayloads(history).length);
    expect(payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString()).join('')).toContain(`${marker}-salaries`);
  });
});

describe('rotation of the payload transit key', () => {
  it('keeps old histories readable by a fresh process, and seals new payloads under the new version', async () => {
    const before = await harness.vault.latestKeyVersion(PAYLOAD_TRANSIT_KEY);
    expect(await harness.vault.rotateKey(PAYLOAD_TRANSIT_KEY)).toBe(before + 1);
    const fresh = createPayloadCodec(harness.vault)!;
    try {
      const opened = await decodeJsonPayloads(structuredClone(history), fresh);
      expect(JSON.stringify(sealedPayloads(opened).map((p) => Buffer.from(p.data ?? '', 'base64').toString()))).toContain(marker);
      const [after] = await fresh.encode([defaultPayloadConverter.toPayload('after rotation')]);
      expect(Buffer.from(after.metadata![METADATA_KEY_ID]).toString()).toContain(`:v${before + 1}:`);
      const response = await codecCall('decode', [sealedPayloads(history)[0], payloadToJson(after)], { authorization: `Bearer ${installAdmin}` });
      expect(response.statusCode).toBe(200);
      expect(Buffer.from(response.json().payloads[1].data, 'base64').toString()).toBe('"after rotation"');
    } finally {
      fresh.keyring.clear();
    }
  });
});
