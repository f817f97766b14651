import { readdir, readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

/**
 * The dashboard's files, next to the compiled routes: the package build copies `src/dashboard/` to `dist/dashboard/`
 * (there is no bundler and no build step for the page itself).
 */
const dashboardDirectory = new URL('../dashboard/', import.meta.url);

/** The content types of the files the page is made of, by extension; other files are not served. */
const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The page's own Content-Security-Policy, stricter than helmet's default and set even with `helmet: false`: only
 * this origin's script, style and fetches, no inline script, no framing. Job inputs and results are user data, and
 * the page renders them as text only; this policy makes a mistake there harmless too. It has no
 * `upgrade-insecure-requests` (helmet's default has), which would send the page's API calls to https on a plain-http
 * deployment and break it.
 */
export const dashboardContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /dashboard` and its script and stylesheet: the operators' page. These routes are public (a browser cannot
 * attach a bearer key to a page it navigates to), and serve only fixed files that hold no data; every call the page
 * makes for data sends the key the user pasted in. The files (`index.html` and the `.js` and `.css` files beside
 * it) are read once, at start-up.
 */
export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  for (const file of (await readdir(dashboardDirectory)).sort()) {
    const contentType = contentTypes[file.slice(file.lastIndexOf('.'))];
    if (contentType === undefined) continue;
    const body = await readFile(new URL(file, dashboardDirectory));
    // Fixed routes, one per file (no wildcard): nothing outside the folder can ever be asked for.
    const urls = file === 'index.html' ? ['/dashboard', '/dashboard/'] : [`/dashboard/${file}`];
    for (const url of urls) {
      app.get(url, { schema: { hide: true } }, async (_request, reply) =>
        reply
          .header('content-type', contentType)
          .header('content-security-policy', dashboardContentSecurityPolicy)
          // Short caching: a new version shows up within a minute, and the files are small.
          .header('cache-control', 'public, max-age=60')
          .send(body),
      );
    }
  }
};
