import { describe, expect, it } from 'vitest';
import { useTestRedis } from '@celeriac/testing';
import { createApiKey, createApiServer } from '@celeriac/api';

const redis = useTestRedis();

async function startApi(options: { helmet?: false } = {}) {
  const key = createApiKey({ id: 'reader', scopes: ['read'] });
  return redis.track(
    await createApiServer({ connection: redis.url, prefix: redis.prefix, logger: false, auth: { keys: [key.record] }, ...options }),
  );
}

describe('dashboard routes', () => {
  it('serves the page and its files without a key, with their own strict CSP', async () => {
    const app = await startApi();
    for (const [url, type] of [
      ['/dashboard', 'text/html'],
      ['/dashboard/', 'text/html'],
      ['/dashboard/app.js', 'text/javascript'],
      ['/dashboard/dom.js', 'text/javascript'],
      ['/dashboard/event-stream.js', 'text/javascript'],
      ['/dashboard/style.css', 'text/css'],
    ] as const) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toContain(type);
      const csp = String(response.headers['content-security-policy']);
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("connect-src 'self'");
      // helmet's default would send the page's API calls to https on a plain-http deployment.
      expect(csp, url).not.toContain('upgrade-insecure-requests');
    }
    const page = (await app.inject('/dashboard')).body;
    expect(page).toContain('<script type="module" src="/dashboard/app.js">');
    // No CDN: every script and stylesheet comes from this server.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('keeps its CSP with helmet off, serves nothing else under /dashboard, and is not in the OpenAPI document', async () => {
    const app = await startApi({ helmet: false });
    expect(String((await app.inject('/dashboard')).headers['content-security-policy'])).toContain("default-src 'none'");
    for (const url of ['/dashboard/../package.json', '/dashboard/index.ts', '/dashboard/nope.js', '/dashboard/%2e%2e/dashboard-routes.js']) {
      expect((await app.inject(url)).statusCode, url).toBe(404);
    }
    // Only GET and HEAD are public: other methods are not routes at all.
    expect((await app.inject({ method: 'POST', url: '/dashboard' })).statusCode).toBe(404);
    const doc = (await app.inject('/docs/json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/dashboard'))).toEqual([]);
  });
});
