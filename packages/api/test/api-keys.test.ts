import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '@celeriac/core';
import { createApiKey, hashApiKey, loadApiKeysFile, resolveApiAuth, type ApiKeyRecord } from '@celeriac/api';

// The verifier is internal, so it is imported from source, where the spy below can see its call to timingSafeEqual.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});
const { timingSafeEqual } = await import('node:crypto');
const { createApiKeyVerifier, parseBearerToken } = await import('../src/internal/api-key-verifier.js');

const dir = mkdtempSync(join(tmpdir(), 'celeriac-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const writeKeys = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('API keys', () => {
  it('creates 256-bit keys whose record holds only the SHA-256', () => {
    const { key, record } = createApiKey({ id: 'ci', scopes: ['read', 'submit', 'read'] });
    expect(key).toMatch(/^celeriac_[A-Za-z0-9_-]{43}$/);
    expect(record).toEqual({ id: 'ci', hash: hashApiKey(key), scopes: ['read', 'submit'] });
    expect(record.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(key.slice('celeriac_'.length));
    expect(createApiKey({ scopes: ['admin'] }).record.id).toMatch(/^key-[0-9a-f]{8}$/);
    expect(() => createApiKey({ scopes: ['root' as 'admin'] })).toThrow('apiKey.scopes.0');
    expect(() => createApiKey({ scopes: [] })).toThrow('at least one scope');
  });

  it('compares the hash with every stored key in constant time, without stopping at a match', () => {
    const keys = [createApiKey({ scopes: ['read'] }), createApiKey({ scopes: ['submit'] }), createApiKey({ scopes: ['admin'] })];
    const verify = createApiKeyVerifier(keys.map((k) => k.record));
    const spy = vi.mocked(timingSafeEqual);
    spy.mockClear();
    expect(verify(keys[0]!.key)).toBe(keys[0]!.record);
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockClear();
    expect(verify('celeriac_wrong')).toBeUndefined();
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('reads only well-formed bearer headers', () => {
    expect(parseBearerToken('Bearer abc')).toBe('abc');
    expect(parseBearerToken('bearer  abc ')).toBe('abc');
    for (const bad of [undefined, '', 'Bearer', 'Basic abc', 'Bearer a b', `Bearer ${'x'.repeat(513)}`]) {
      expect(parseBearerToken(bad)).toBeUndefined();
    }
  });

  it('loads a key file of JSON lines (with comments) or a JSON array', () => {
    const a = createApiKey({ id: 'a', scopes: ['read'] }).record;
    const b = createApiKey({ id: 'b', scopes: ['admin'] }).record;
    const lines = writeKeys('keys.jsonl', `# ops keys\n${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`);
    expect(loadApiKeysFile(lines)).toEqual([a, b]);
    expect(loadApiKeysFile(writeKeys('keys.json', JSON.stringify([a, b], null, 2)))).toEqual([a, b]);
  });

  it('names the file and line of a bad entry', () => {
    const good = createApiKey({ id: 'a', scopes: ['read'] }).record;
    const cases: [string, string | RegExp][] = [
      [`${JSON.stringify(good)}\n{"id":"b","hash":"md5:00","scopes":["read"]}`, /bad\.jsonl:2\.hash: expected "sha256:"/],
      [`${JSON.stringify(good)}\n{not json`, /bad\.jsonl:2 is not valid JSON/],
      [`${JSON.stringify(good)}\n${JSON.stringify(good)}`, 'lists the id "a" twice'],
      [`{"id":"c","hash":"${good.hash}","scopes":["root"]}`, /bad\.jsonl:1\.scopes\.0/],
    ];
    for (const [text, message] of cases) {
      const path = writeKeys('bad.jsonl', text);
      expect(() => loadApiKeysFile(path)).toThrow(message);
    }
    expect(() => loadApiKeysFile(join(dir, 'missing.jsonl'))).toThrow(/Cannot read the API key file/);
  });

  it('takes keys from auth, auth.keysFile, or CELERIAC_API_KEYS_FILE, and refuses none at all', () => {
    const a = createApiKey({ id: 'a', scopes: ['read'] }).record;
    const b = createApiKey({ id: 'b', scopes: ['submit'] }).record;
    const path = writeKeys('env.jsonl', JSON.stringify(b));
    const ids = (auth: ReturnType<typeof resolveApiAuth>) => (auth === false ? [] : auth.keys.map((k: ApiKeyRecord) => k.id));
    expect(ids(resolveApiAuth({ keys: [a], keysFile: path, publicDocs: true }, {}))).toEqual(['a', 'b']);
    expect(ids(resolveApiAuth(undefined, { CELERIAC_API_KEYS_FILE: path }))).toEqual(['b']);
    expect(resolveApiAuth(false, {})).toBe(false);
    expect(() => resolveApiAuth(undefined, {})).toThrow(expect.objectContaining({ code: ErrorCode.InvalidOptions }));
    expect(() => resolveApiAuth({ keys: [a, a], publicDocs: true }, {})).toThrow('Two API keys have the id "a"');
  });
});
