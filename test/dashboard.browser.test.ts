import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pino } from 'pino';
import { chromium, type Page } from 'playwright-core';
import { defineTask, toCatalogueEntry, type WorkerInfo } from '@celeriac/core';
import { createApiKey, createApiServer } from '@celeriac/api';
import { createWorker } from '@celeriac/worker';
import { useTestRedis } from '@celeriac/testing';

/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, against a real API and a real worker
 * on the test Redis. Without chromium it skips; with `CELERIAC_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs
 * chromium) a missing browser fails instead.
 *
 * Screenshots go to `test-results/dashboard/` at the repository root (git-ignored).
 */
const chromiumPath = process.env['CELERIAC_CHROMIUM'] ?? '/usr/bin/chromium';
const requireBrowser = process.env['CELERIAC_REQUIRE_BROWSER'] === '1';
const hasChromium = existsSync(chromiumPath);
const screenshotDir = fileURLToPath(new URL('../test-results/dashboard/', import.meta.url));

const redis = useTestRedis();

const echo = defineTask({
  name: 'echo',
  input: z.object({ text: z.string() }),
  output: z.object({ echoed: z.string() }),
  isolation: 'inline',
  handler: async ({ text }, ctx) => {
    await ctx.progress(0.5);
    await ctx.log(`echoing ${text.length} characters`);
    return { echoed: text };
  },
});

/** An input that would run script if the page ever rendered job data as HTML. */
const hostileText = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>';

async function startStack() {
  const keys = { admin: createApiKey({ id: 'operator', scopes: ['admin'] }), read: createApiKey({ id: 'viewer', scopes: ['read'] }) };
  await redis.createBroker().publishCatalogue([toCatalogueEntry(echo)]);
  const app = redis.track(
    await createApiServer({
      connection: redis.url,
      prefix: redis.prefix,
      logger: false,
      auth: { keys: [keys.admin.record, keys.read.record] },
    }),
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const startWorker = async () => {
    const worker = redis.track(
      createWorker({ tasks: [echo], connection: redis.url, prefix: redis.prefix, logger: pino({ level: 'silent' }) }),
    );
    await worker.start();
  };
  /** Submits through the API, as any producer would (not through the page). */
  const submit = async (input: unknown, query = '') => {
    const response = await fetch(`${base}/v1/tasks/echo${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.admin.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  const call = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${keys.admin.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, `${method} ${path}`).toBeLessThan(300);
    return (await response.json()) as { id: string };
  };
  const getJob = async (id: string) =>
    (await (await fetch(`${base}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${keys.admin.key}` } })).json()) as {
      state: string;
    };
  return { base, keys, startWorker, submit, call, getJob };
}

/** A heartbeat as a GPU worker on lavapipe writes it, after one executor restart. */
function gpuWorker(): WorkerInfo {
  const now = Date.now();
  return {
    id: 'gpu-worker-1',
    hostname: 'gpu-host',
    pid: 4242,
    queues: ['gpu'],
    tasks: ['saxpy'],
    concurrency: 1,
    startedAtMs: now - 3_600_000,
    heartbeatAtMs: now,
    capabilities: {
      cpuSlots: 4,
      gpu: {
        available: true,
        adapter: { vendor: 'mesa', architecture: 'llvmpipe', device: 'lavapipe', description: 'llvmpipe (LLVM 19, 256 bits)', isSoftware: true },
        features: ['shader-f16', 'timestamp-query'],
        limits: { maxBufferSize: 268_435_456 },
        adapterType: 'software',
      },
    },
    gpuActivity: {
      executorStarts: 2,
      devicesAcquired: 1,
      runs: 12,
      pipelinesCompiled: 2,
      pipelineCacheHits: 10,
      kernelTimings: { saxpy: { runs: 12, totalNs: 3_400_000, lastNs: 250_000 } },
    },
    activeJobs: [],
  };
}

async function logIn(page: Page, key: string): Promise<void> {
  await page.fill('#key-input', key);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#session:not([hidden])');
}

const jobRow = (id: string, state: string) => `#jobs-table tr[data-job-id="${id}"][data-state="${state}"]`;

function describeBrowser(name: string, body: () => void): void {
  if (hasChromium) describe(name, body);
  else if (requireBrowser) {
    describe(name, () => {
      it('has chromium (CELERIAC_REQUIRE_BROWSER=1)', () => {
        throw new Error(`CELERIAC_REQUIRE_BROWSER=1, but there is no chromium at ${chromiumPath}: apt-get install chromium, or set CELERIAC_CHROMIUM.`);
      });
    });
  } else describe.skip(`${name} (no chromium at ${chromiumPath}; set CELERIAC_CHROMIUM)`, body);
}

describeBrowser('dashboard in a browser', () => {
  it('logs in with a key, follows a job live to succeeded, cancels a delayed job, and saves screenshots', { timeout: 90_000 }, async () => {
    const stack = await startStack();
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      // Chromium's sandbox cannot start as root (CI runs as root).
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));

      await page.goto(`${stack.base}/dashboard`);
      // A wrong key is refused with a message, and nothing is stored.
      await page.fill('#key-input', 'celeriac_not-a-key');
      await page.click('#login-form button[type=submit]');
      await expect.poll(() => page.textContent('#login-error')).toContain('does not know this key');

      // A read key sees data but no control buttons.
      await logIn(page, stack.keys.read.key);
      expect(await page.textContent('#scopes')).toBe('read');
      await page.click('#logout');
      await page.waitForSelector('#login-form');

      await logIn(page, stack.keys.admin.key);
      expect(await page.textContent('#scopes')).toBe('admin');
      await page.waitForSelector('#live[data-status="live"]');
      await page.evaluate(() => Object.assign(globalThis, { __sameDocument: true }));

      // A job submitted through the API shows up queued, then moves to succeeded once a worker starts.
      await page.click('#nav a[data-view="jobs"]');
      const id = await stack.submit({ text: hostileText });
      await page.waitForSelector(jobRow(id, 'queued'), { timeout: 10_000 });
      await stack.startWorker();
      await page.waitForSelector(jobRow(id, 'succeeded'), { timeout: 20_000 });
      expect(await page.evaluate(() => (globalThis as { __sameDocument?: boolean }).__sameDocument)).toBe(true); // no reload

      // A delayed job, cancelled from the page (its Cancel button asks to confirm).
      const delayed = await stack.submit({ text: 'later' }, '?delay=1h');
      await page.waitForSelector(jobRow(delayed, 'scheduled'), { timeout: 10_000 });
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click(`${jobRow(delayed, 'scheduled')} button.cancel`);
      await page.waitForSelector(jobRow(delayed, 'cancelled'), { timeout: 10_000 });
      expect((await stack.getJob(delayed)).state).toBe('cancelled');
      mkdirSync(screenshotDir, { recursive: true });
      await page.screenshot({ path: `${screenshotDir}jobs.png`, fullPage: true });

      // The detail view shows the hostile input as text, and nothing in it ran.
      await page.click(`#jobs-table tr[data-job-id="${id}"] a`);
      await page.waitForSelector(`#job-detail [data-job-id="${id}"][data-state="succeeded"]`);
      const detail = await page.textContent('#job-detail');
      expect(detail).toContain(JSON.stringify(hostileText)); // as JSON text in the input and result
      expect(detail).toContain('echoing');
      expect(await page.$$('#job-detail img, #job-detail script')).toHaveLength(0);
      await page.screenshot({ path: `${screenshotDir}job.png`, fullPage: true });

      // A workflow as a tree, with each job's state, and a schedule.
      const group = await stack.call('POST', '/v1/workflows', {
        kind: 'group',
        members: [{ kind: 'task', task: 'echo', input: { text: 'a' } }, { kind: 'task', task: 'echo', input: { text: 'b' } }],
      });
      await stack.call('PUT', '/v1/schedules/nightly', { task: 'echo', input: { text: 'n' }, cron: '0 3 * * *', tz: 'Europe/Paris' });
      await page.click('#nav a[data-view="workflows"]');
      await page.fill('#workflow-form input[name=id]', group.id);
      await page.click('#workflow-form button[type=submit]');
      await page.waitForSelector('#workflow-detail .tree > li > ul > li');
      // The group's node and its two tasks.
      await expect.poll(() => page.$$eval('#workflow-detail .tree .badge.state-succeeded', (nodes) => nodes.length), { timeout: 15_000 }).toBe(3);
      await page.screenshot({ path: `${screenshotDir}workflow.png`, fullPage: true });
      await page.click('#nav a[data-view="schedules"]');
      await page.waitForSelector('#schedules-table tr[data-schedule="nightly"]');
      expect(await page.textContent('#schedules-table tr[data-schedule="nightly"]')).toContain('0 3 * * * (Europe/Paris)');

      // The overview: the queue's counts and the live workers, one of them (a heartbeat written here) with a GPU.
      await redis.createBroker().heartbeat(gpuWorker(), 60_000);
      await page.click('#nav a[data-view="overview"]');
      await page.waitForSelector('#queues-table tr[data-queue="default"]');
      await page.waitForSelector('#workers article.worker');
      await page.waitForSelector('#workers article[data-worker="gpu-worker-1"] .gpu .badge.software');
      expect(await page.textContent('#workers article[data-worker="gpu-worker-1"]')).toContain('1 restart ·');
      await page.screenshot({ path: `${screenshotDir}overview.png`, fullPage: true });
      await page.setViewportSize({ width: 420, height: 900 }); // a phone: tables scroll, cards stack
      await page.screenshot({ path: `${screenshotDir}overview-narrow.png`, fullPage: true });

      expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
      expect(pageErrors).toEqual([]);
      // The key travels in headers only: no request URL carries it.
      expect(requests.filter((url) => url.includes(stack.keys.admin.key) || url.includes(stack.keys.read.key))).toEqual([]);
    } finally {
      // Before the tracked server closes: the page's event stream holds a Redis subscription until it disconnects.
      await browser.close();
    }
  });
});
