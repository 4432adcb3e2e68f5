// The payload codec against a stand-in for the Vault Transit boundary (the real
// Vault is exercised in test/api/codec.test.ts): sealing, pass-through of plain
// payloads, key ids and versions, rotation, renewal, tampering, key caching.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ENCRYPTED_ENCODING, METADATA_KEY_ID, METADATA_WRAPPED_KEY, PayloadDecodeError, VaultPayloadCodec } from '../../lib/payload-codec';
import { PayloadKeyring } from '../../lib/payload-keys';
import { decodeJsonPayloads, findJsonPayloads, payloadToJson } from '../../lib/payload-json';
import { createPayloadCodec, payloadEncryptionEnabled } from '../../temporal-config/payload-encryption';
import { VaultClient } from '../../lib/vault-client';

/** Transit semantics that matter here: versioned wrapping keys, rotation, old versions still decrypt. */
class FakeTransit {
  versions: Buffer[] = [];
  calls: string[] = [];
  async ensureTransitKey(name: string) { this.calls.push(`ensure ${name}`); if (this.versions.length === 0) this.versions.push(randomBytes(32)); }
  rotate() { this.versions.push(randomBytes(32)); }
  async send(method: string, path: string, body?: unknown): Promise<unknown> {
    this.calls.push(`${method} ${path}`);
    if (path.includes('/datakey/plaintext/')) {
      const plaintext = randomBytes(32);
      return { data: { plaintext: plaintext.toString('base64'), ciphertext: this.wrap(plaintext) } };
    }
    if (path.includes('/decrypt/')) return { data: { plaintext: this.unwrap((body as { ciphertext: string }).ciphertext).toString('base64') } };
    throw new Error(`unexpected ${method} ${path}`);
  }
  private wrap(plaintext: Buffer): string {
    const version = this.versions.length;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.versions[version - 1], nonce);
    const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `vault:v${version}:${body.toString('base64')}`;
  }
  private unwrap(ciphertext: string): Buffer {
    const [, version, text] = /^vault:v(\d+):(.*)$/.exec(ciphertext) ?? [];
    const body = Buffer.from(text, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.versions[Number(version) - 1], body.subarray(0, 12));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
  }
}

const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const meta = (payload: Payload, key: string) => Buffer.from(payload.metadata?.[key] ?? new Uint8Array()).toString('utf8');

function codecOver(transit: FakeTransit, options: ConstructorParameters<typeof PayloadKeyring>[1] = {}) {
  return new VaultPayloadCodec(new PayloadKeyring(transit as unknown as VaultClient, options));
}

describe('VaultPayloadCodec', () => {
  const secretPath = '/srv/finance/salaries-2026.xlsx';

  it('seals payloads so neither the data nor the original metadata shows, and opens them again', async () => {
    const codec = codecOver(new FakeTransit());
    const [sealed] = await codec.encode([toPayload({ path: secretPath })]);
    expect(meta(sealed, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(sealed, METADATA_KEY_ID)).toMatch(/^strata-payloads:v1:[0-9a-f]{16}$/);
    expect(meta(sealed, METADATA_WRAPPED_KEY)).toMatch(/^vault:v1:/);
    const stored = Buffer.from(JSON.stringify(payloadToJson(sealed))).toString('latin1') + Buffer.from(sealed.data!).toString('latin1');
    expect(stored).not.toContain('salaries');
    expect(stored).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed]);
    expect(fromPayload(opened)).toEqual({ path: secretPath });
    expect(meta(opened, 'encoding')).toBe('json/plain');
  });

  it('passes through payloads that were never sealed', async () => {
    const codec = codecOver(new FakeTransit());
    const plain = toPayload({ old: 'history' });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('asks Vault for one data key and unwraps nothing while it seals and opens with it', async () => {
    const transit = new FakeTransit();
    const codec = codecOver(transit);
    const sealed = await codec.encode(Array.from({ length: 20 }, (_, i) => toPayload(i)));
    expect((await codec.decode(sealed)).map(fromPayload)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(transit.calls.filter((call) => call.includes('/datakey/'))).toHaveLength(1);
    expect(transit.calls.filter((call) => call.includes('/decrypt/'))).toHaveLength(0);
  });

  it('keeps opening payloads of older transit key versions after rotation, in a fresh process', async () => {
    const transit = new FakeTransit();
    const [before] = await codecOver(transit).encode([toPayload('before rotation')]);
    transit.rotate();
    const fresh = codecOver(transit);
    const [after] = await fresh.encode([toPayload('after rotation')]);
    expect(meta(after, METADATA_KEY_ID)).toMatch(/:v2:/);
    expect((await fresh.decode([before, after])).map(fromPayload)).toEqual(['before rotation', 'after rotation']);
    expect(transit.calls.filter((call) => call.includes('/decrypt/'))).toHaveLength(1);
  });

  it('takes a new data key under the latest version once the current one is too old', async () => {
    const transit = new FakeTransit();
    let now = 0;
    const codec = codecOver(transit, { maxKeyAgeMs: 1000, now: () => now });
    const [first] = await codec.encode([toPayload(1)]);
    transit.rotate();
    now = 500;
    const [second] = await codec.encode([toPayload(2)]);
    now = 1500;
    const [third] = await codec.encode([toPayload(3)]);
    expect(meta(second, METADATA_KEY_ID)).toBe(meta(first, METADATA_KEY_ID));
    expect(meta(third, METADATA_KEY_ID)).toMatch(/:v2:/);
    expect((await codec.decode([first, second, third])).map(fromPayload)).toEqual([1, 2, 3]);
  });

  it('refuses a tampered payload, a swapped key id and a missing wrapped key', async () => {
    const codec = codecOver(new FakeTransit());
    const [a, b] = await codec.encode([toPayload('a'), toPayload('b')]);
    const flipped = Buffer.from(a.data!);
    flipped[20] ^= 1;
    await expect(codec.decode([{ ...a, data: flipped }])).rejects.toThrow(/failed authentication/);
    const swapped = { ...a, metadata: { ...a.metadata, [METADATA_KEY_ID]: Buffer.from('strata-payloads:v1:0000000000000000') } };
    await expect(codec.decode([swapped])).rejects.toThrow(/names data key/);
    const foreign = { ...a, metadata: { ...a.metadata, [METADATA_KEY_ID]: Buffer.from(meta(a, METADATA_KEY_ID).replace('strata-payloads', 'acme')) } };
    await expect(codec.decode([foreign])).rejects.toThrow(/sealed under transit key acme; this process uses strata-payloads/);
    const bare = { ...b, metadata: { encoding: b.metadata!.encoding, 'encryption-cipher': b.metadata!['encryption-cipher'] } };
    await expect(codec.decode([bare])).rejects.toThrow(PayloadDecodeError);
  });

  it('decodes every payload of a JSON history in place', async () => {
    const codec = codecOver(new FakeTransit());
    const sealed = await codec.encode([toPayload({ path: secretPath }), toPayload(42)]);
    const history = { events: [{ input: { payloads: [payloadToJson(sealed[0])] } }, { result: { payloads: [payloadToJson(sealed[1])] } }] };
    expect(JSON.stringify(history)).not.toContain(Buffer.from(secretPath).toString('base64').slice(0, 12));
    await decodeJsonPayloads(history, codec);
    expect(findJsonPayloads(history).map((p) => Buffer.from(p.data!, 'base64').toString())).toEqual([JSON.stringify({ path: secretPath }), '42']);
  });
});

describe('payload encryption settings', () => {
  it('is on unless switched off, and refuses a value it does not know', () => {
    expect(payloadEncryptionEnabled({})).toBe(true);
    expect(payloadEncryptionEnabled({ STRATA_PAYLOAD_ENCRYPTION: 'off' })).toBe(false);
    expect(() => payloadEncryptionEnabled({ STRATA_PAYLOAD_ENCRYPTION: 'maybe' })).toThrow(/on or off/);
    expect(createPayloadCodec(new VaultClient({ address: 'http://127.0.0.1:1', token: '', transitMount: 'transit' }), { STRATA_PAYLOAD_ENCRYPTION: 'off' })).toBeUndefined();
    expect(() => createPayloadCodec(new VaultClient({ address: 'http://127.0.0.1:1', token: '', transitMount: 'transit' }), { STRATA_PAYLOAD_KEY_MAX_AGE_MS: 'soon' })).toThrow(/positive number/);
  });
});
