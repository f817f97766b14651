/**
 * ESLint for the celeriac monorepo: recommended JavaScript and TypeScript rules (syntax only, no type information,
 * so `npm run lint` stays fast), plus the import direction between packages.
 *
 * The direction comes from `scripts/package-graph.mjs`, the same table `scripts/check-cycles.mjs` checks the
 * package.json files against; the per-package blocks below are generated from it, never written by hand.
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { allowedDependencies, exclusiveImports, scope } from './scripts/package-graph.mjs';

const packageNames = Object.keys(allowedDependencies);
const tsFiles = ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'examples/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'];
const scriptFiles = ['scripts/**/*.mjs', 'eslint.config.js'];

/** `a|b|c` for a regular expression; the names are plain `[a-z]` words, so nothing needs escaping. */
const anyOf = (names) => names.join('|');

/** Private files of a package reached by its name: `@celeriac/core/src/x.js`, `@celeriac/gpu/dist/y.js`, `…/internal/…`. */
const deepImport = {
  regex: `^${scope}/[^/]+/((src|dist|test)(/|$)|(.*/)?internal(/|$))`,
  message: `Import a celeriac package through its entry point (${scope}/name, or a subpath its "exports" map lists); src/, dist/ and internal/ are private.`,
};

/** Another workspace's files reached by a relative path: `../../core/src/x.js`, `../packages/gpu/dist/y.js`. */
const relativeIntoPackage = {
  regex: `^(\\./)?(\\.\\./)+(packages/)?(${anyOf([...packageNames, 'examples'])})/(src|dist|test|package\\.json)(/|$)`,
  message: `Import another celeriac package by its name (${scope}/name), never by a relative path into its folder.`,
};

/** The `no-restricted-imports` setting for one set of files. A later block replaces it whole, so each is complete. */
function restrictImports(patterns) {
  return { 'no-restricted-imports': ['error', { patterns: [deepImport, relativeIntoPackage, ...patterns] }] };
}

/**
 * The import rules for one package's `src/` or `test/`. Any `@celeriac/*` name outside the table's list is refused,
 * including ones the table does not know. Source imports its own files by relative path (its own name would load its
 * built `dist/`); tests may use their own package by name, as users do, and the harness in `@celeriac/testing`.
 */
function packageBlock(name, area) {
  const allowed = area === 'test' ? [...new Set([...allowedDependencies[name], name, 'testing'])] : allowedDependencies[name];
  const patterns = exclusiveImports
    .filter((exclusive) => exclusive.owner !== name)
    .map((exclusive) => ({
      regex: exclusive.pattern,
      message: `Only ${scope}/${exclusive.owner} may import ${exclusive.label}; use what it exports instead.`,
    }));
  const may = allowed.length === 0 ? 'no other celeriac package' : `only ${allowed.map((dep) => `${scope}/${dep}`).join(', ')}`;
  const ownFiles = area === 'src' ? ', and its own files only by relative path' : '';
  patterns.push({
    regex: allowed.length === 0 ? `^${scope}/` : `^${scope}/(?!(${anyOf(allowed)})(/|$))`,
    message: `${scope}/${name} ${area}/ may import ${may}${ownFiles} (see scripts/package-graph.mjs).`,
  });
  return { name: `celeriac/imports/${name}/${area}`, files: [`packages/${name}/${area}/**/*.ts`], rules: restrictImports(patterns) };
}

export default defineConfig(
  { name: 'celeriac/ignores', ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**'] },
  { name: 'celeriac/javascript', files: [...tsFiles, ...scriptFiles], extends: [js.configs.recommended] },
  { name: 'celeriac/typescript', files: tsFiles, extends: [tseslint.configs.recommended] },
  { name: 'celeriac/scripts', files: scriptFiles, languageOptions: { globals: globals.node } },
  // The dashboard's page scripts: plain ES modules that run in the browser, with no build step.
  { name: 'celeriac/dashboard', files: ['packages/api/src/dashboard/**/*.js'], extends: [js.configs.recommended], languageOptions: { globals: globals.browser } },
  // Examples, end-to-end tests, benchmarks and scripts may use any package, but only through its public entry point.
  { name: 'celeriac/imports/outside-packages', files: [...tsFiles, ...scriptFiles], rules: restrictImports([]) },
  ...packageNames.flatMap((name) => [packageBlock(name, 'src'), packageBlock(name, 'test')]),
);
