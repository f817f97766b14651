/**
 * The routes that answer without an API key: the probes, the API's description, and the CORS preflight. This list
 * is the only way to make a route public; anything else must declare `config: { scope }`, or the server refuses
 * to start. Keep it short and review every addition.
 *
 * - `/healthz`, `/readyz`: orchestrators probe them without credentials; they reveal only "up" and "Redis answers".
 * - `/docs*` (unless `auth.publicDocs` is `false`): the OpenAPI document describes routes, never data, and a
 *   browser cannot attach a bearer key to a page it navigates to.
 * - `OPTIONS *` (only registered when CORS is on): browsers send preflights without credentials by design.
 * - `GET /dashboard*`: the dashboard's fixed HTML, script and stylesheet, which hold no data; a browser cannot attach
 *   a bearer key to a page it navigates to. Every call the page makes for data sends the user's key.
 */
export function isPublicRoute(method: string | readonly string[], url: string, publicDocs: boolean): boolean {
  if (url === '/healthz' || url === '/readyz') return true;
  if (publicDocs && isDocsRoute(url)) return true;
  const methods = typeof method === 'string' ? [method] : method;
  if (isDashboardRoute(url)) return methods.length > 0 && methods.every((m) => m === 'GET' || m === 'HEAD');
  return url === '*' && methods.length > 0 && methods.every((m) => m === 'OPTIONS');
}

/** Whether `url` is one of the dashboard's file routes. */
function isDashboardRoute(url: string): boolean {
  return url === '/dashboard' || url.startsWith('/dashboard/');
}

/** Whether `url` is one of the docs routes (which need `read` when they are not public). */
export function isDocsRoute(url: string): boolean {
  return url === '/docs' || url.startsWith('/docs/');
}
