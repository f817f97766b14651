import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@celeriac/core';
import { exitOf, runCli, startCli } from './fixtures/spawn-cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'celeriac-dev-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// `celeriac dev` must start its own redis-server here, as it does for a new user.
const envWithoutRedis = { ...process.env, REDIS_URL: undefined, CELERIAC_API_KEY: undefined };

const isListening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('celeriac dev, end to end', () => {
  it('serves jobs over real HTTP, works with submit and status, and stops cleanly on Ctrl-C', { timeout: 90_000 }, async () => {
    const { child, match } = await startCli(
      ['dev', '--port', '0', '--data-dir', dataDir],
      /API +(http:\/\/127\.0\.0\.1:\d+)\n +Key +(celeriac_\S+)[\s\S]*Redis +redis:\/\/127\.0\.0\.1:(\d+)[\s\S]*Press Ctrl-C/,
      envWithoutRedis,
    );
    const [, api, key, redisPort] = match as unknown as [string, string, string, string];
    // The session's key is printed once in the banner; the CLI takes it from the environment.
    const withKey = { ...process.env, CELERIAC_API_KEY: key };
    const authorization = `Bearer ${key}`;
    try {
      const anonymous = await fetch(`${api}/v1/tasks`);
      expect(anonymous.status).toBe(401);
      const submitted = await fetch(`${api}/v1/tasks/add`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ x: 20, y: 22 }),
      });
      expect(submitted.status).toBe(201);
      const { id } = (await submitted.json()) as { id: string };
      let record: { state: string; result?: unknown } = { state: 'queued' };
      for (let tries = 0; tries < 200 && record.state !== 'succeeded'; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        record = (await (await fetch(`${api}/v1/jobs/${id}`, { headers: { authorization } })).json()) as typeof record;
      }
      expect(record).toMatchObject({ state: 'succeeded', result: 42 });

      const waited = await runCli(['submit', 'add', '{"x": 1, "y": 2}', '--wait', '--api-url', api], withKey);
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout)).toMatchObject({ task: 'add', state: 'succeeded', result: 3 });

      const status = await runCli(['status', id, '--api-url', api, '--api-key', key]);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ id, state: 'succeeded', result: 42 });

      const missing = await runCli(['status', 'no-such-job', '--api-url', api], withKey);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(ErrorCode.JobNotFound);

      const invalid = await runCli(['submit', 'add', '{"x": "one"}', '--api-url', api], withKey);
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toContain(ErrorCode.InvalidInput);

      const keyless = await runCli(['status', id, '--api-url', api], { ...process.env, CELERIAC_API_KEY: undefined });
      expect(keyless.code).toBe(1);
      expect(keyless.stderr).toContain(ErrorCode.Unauthenticated);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exitOf(child)).toBe(0);
    expect(await isListening(Number(redisPort))).toBe(false);
  });

  it('rejects bad flags with a clear message and exit code 2', async () => {
    const run = await runCli(['dev', '--porrt', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--porrt'");
    expect(run.stderr).toContain('Usage: celeriac dev');
    const unknown = await runCli(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
  });

  it('prints help for every command', async () => {
    for (const command of ['dev', 'worker', 'api', 'api-key', 'submit', 'status', 'schedule', 'inspect', 'control']) {
      const run = await runCli([command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: celeriac ${command}`);
    }
  });

  it('runs the demo: add, and a GPU dot product, alone and as a workflow, that match the JS reference', { timeout: 180_000 }, async (ctx) => {
    const run = await runCli(['dev', '--demo', '--exit', '--port', '0', '--data-dir', dataDir], envWithoutRedis);
    expect(run.stdout).toContain('add(2, 3) = 5');
    expect(run.stdout).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/v1\/jobs\/[0-9a-f-]{36} -H "authorization: Bearer \$CELERIAC_API_KEY"/);
    if (run.stdout.includes('GPU dot product failed') && process.env['CELERIAC_REQUIRE_GPU'] !== '1') {
      ctx.skip('no WebGPU adapter here; set CELERIAC_REQUIRE_GPU=1 to make this a failure');
    }
    expect(run.stdout).toMatch(/GPU dot product of two 1,048,576-element vectors = -?\d+\.\d+/);
    expect(run.stdout).toContain('(matches, tolerance 0.001)');
    expect(run.stdout).toMatch(/a chord of 8 GPU reductions, summed by its callback = -?\d+\.\d+\n.*\(matches\)/);
    expect(run.code).toBe(0);
  });
});
