import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@celeriac/core';
import { useTestRedis } from '@celeriac/testing';
import { exitOf, runCli, startCli } from './fixtures/spawn-cli.js';

const redis = useTestRedis();
const dir = mkdtempSync(join(tmpdir(), 'celeriac-api-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, CELERIAC_API_KEY: undefined, CELERIAC_API_KEYS_FILE: undefined };

describe('celeriac api-key and a keyed celeriac api', () => {
  it('creates keys into a file that `celeriac api --keys-file` serves, and the CLI calls it with the key', { timeout: 60_000 }, async () => {
    const keysFile = join(dir, 'keys.jsonl');
    const created = await runCli(['api-key', 'create', '--scopes', 'read,submit', '--id', 'ci', '--append', keysFile], env);
    expect(created.code).toBe(0);
    const key = /^\s+(celeriac_\S+)$/m.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    const line = readFileSync(keysFile, 'utf8').trim();
    expect(JSON.parse(line)).toEqual({ id: 'ci', hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), scopes: ['read', 'submit'] });
    expect(created.stdout).toContain(line);
    expect(line).not.toContain(key!.slice('celeriac_'.length));

    const { child, match } = await startCli(
      ['api', '--port', '0', '--keys-file', keysFile, '--redis-url', redis.url, '--prefix', redis.prefix],
      /Server listening at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    const api = (match as unknown as [string, string])[1];
    try {
      const withKey = await runCli(['status', 'no-such-job', '--api-url', api], { ...env, CELERIAC_API_KEY: key });
      expect(withKey.stderr).toContain(ErrorCode.JobNotFound);
      const without = await runCli(['status', 'no-such-job', '--api-url', api], env);
      expect(without.code).toBe(1);
      expect(without.stderr).toContain(ErrorCode.Unauthenticated);
      const wrong = await runCli(['status', 'no-such-job', '--api-url', api, '--api-key', 'celeriac_nope'], env);
      expect(wrong.stderr).toContain('not valid here');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exitOf(child)).toBe(0);
  });

  it('refuses to serve without keys unless --no-auth is given, and checks scopes', async () => {
    const noKeys = await runCli(['api', '--port', '0', '--redis-url', redis.url, '--prefix', redis.prefix], env);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('the API needs API keys');
    const badScope = await runCli(['api-key', 'create', '--scopes', 'root'], env);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toContain('apiKey.scopes.0');
    const noScope = await runCli(['api-key', 'create'], env);
    expect(noScope.code).toBe(2);
  });
});
