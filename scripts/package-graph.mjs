/**
 * The allowed dependency graph between celeriac's packages: the single source of truth that `eslint.config.js`
 * (per-file import rules) and `scripts/check-cycles.mjs` (package.json dependencies) both read.
 *
 * Change the architecture here, in one place, and both checks follow.
 */

/** The npm scope every workspace package lives under. */
export const scope = '@celeriac';

/**
 * Package directory name → the other celeriac packages (`@celeriac/<name>`) it may import. Imports flow one way:
 * `core ← broker ← {redis, worker, client} ← api ← cli`, and `gpu ← core`. The client stays light (no worker, GPU
 * or HTTP server), and the API validates against the published catalogue, so it never needs worker code.
 */
export const allowedDependencies = {
  core: [],
  broker: ['core'],
  redis: ['core', 'broker'],
  gpu: ['core'],
  worker: ['core', 'broker', 'redis', 'gpu'],
  client: ['core', 'broker', 'redis'],
  api: ['core', 'broker', 'redis', 'client'],
  // The command line may use anything; `examples` is the private examples workspace that `celeriac dev` runs.
  cli: ['core', 'broker', 'redis', 'gpu', 'worker', 'client', 'api', 'testing', 'examples'],
  testing: ['core', 'broker', 'redis'],
};

/**
 * Third-party packages that exactly one celeriac package may import, as regular expressions over the import
 * specifier. Keeping each heavy dependency behind one package keeps the others light and swappable.
 */
export const exclusiveImports = [
  { owner: 'redis', label: 'bullmq / ioredis', pattern: '^(bullmq|ioredis)(/|$)' },
  { owner: 'gpu', label: 'webgpu', pattern: '^webgpu(/|$)' },
  { owner: 'api', label: 'fastify / @fastify/* / fastify-*', pattern: '^(fastify(/|$)|fastify-|@fastify/)' },
];
