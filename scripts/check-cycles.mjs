#!/usr/bin/env node
/**
 * Checks the dependency structure that ESLint's per-file rules cannot see whole; `npm run lint` runs it.
 *
 * 1. The package graph, from each `packages/<name>/package.json`: every `@celeriac/*` runtime dependency is one that
 *    `scripts/package-graph.mjs` allows, and the graph has no cycle (devDependencies count too, because turbo builds
 *    along them). Inside each `src/`, a dynamic `import('@celeriac/x')` must also be allowed: ESLint's
 *    `no-restricted-imports` only sees static imports.
 * 2. Each package's `src/` has no import cycle between its files. A cycle that goes through `import type` or
 *    `export type` is only a warning: types are erased, so nothing runs half-initialised, but the coupling is worth
 *    untangling. A cycle of value imports fails.
 *
 * Dependency-free on purpose: imports are found with regular expressions, which is enough for ESM written one
 * statement per line with semicolons, as here. Exits 1 and names every cycle when one is found.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allowedDependencies, scope } from './package-graph.mjs';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');
const errors = [];
const warnings = [];

/** Every cycle a depth-first search meets in `graph` (node → neighbours), each as a closed path `[a, b, a]`. */
function findCycles(graph) {
  const onStack = new Set();
  const done = new Set();
  const stack = [];
  const cycles = [];
  const visit = (node) => {
    onStack.add(node);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (onStack.has(next)) cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!done.has(next)) visit(next);
    }
    stack.pop();
    onStack.delete(node);
    done.add(node);
  };
  for (const node of graph.keys()) if (!done.has(node)) visit(node);
  return cycles;
}

/** The `.ts` files under `dir`, declaration files excepted. */
function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(dir, file));
}

// 1. The package graph.
const names = readdirSync(packagesDir).filter((dir) => existsSync(join(packagesDir, dir, 'package.json')));
const packageGraph = new Map();
for (const name of names) {
  const manifest = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8'));
  const allowed = allowedDependencies[name];
  if (manifest.name !== `${scope}/${name}`) errors.push(`packages/${name}: its name must be ${scope}/${name}`);
  if (allowed === undefined) {
    errors.push(`packages/${name} is missing from allowedDependencies in scripts/package-graph.mjs; add it there`);
    continue;
  }
  const internal = (field) =>
    Object.keys(manifest[field] ?? {}).filter((dep) => dep.startsWith(`${scope}/`)).map((dep) => dep.slice(scope.length + 1));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const dep of internal(field).filter((dep) => !allowed.includes(dep))) {
      errors.push(`packages/${name}/package.json ${field} has ${scope}/${dep}; ${name} may depend on [${allowed.join(', ')}]`);
    }
  }
  const deps = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'].flatMap(internal);
  packageGraph.set(name, [...new Set(deps)]);
}
for (const cycle of findCycles(packageGraph)) {
  errors.push(`package dependency cycle: ${cycle.join(' → ')} (devDependencies count: turbo refuses to build a cycle)`);
}
const edgeCount = [...packageGraph.values()].reduce((sum, deps) => sum + deps.length, 0);
console.log(`check-cycles: ${packageGraph.size} packages, ${edgeCount} ${scope}/* dependencies checked against scripts/package-graph.mjs`);

// 2. File-level cycles inside each package's src/.
const staticImport = /^\s*(?:import|export)\s+(type\s+)?(?:[^;'"]*?[\s}*]from\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;
const dynamicPackageImport = new RegExp(`\\bimport\\(\\s*['"]${scope}/([^/'"]+)`, 'g');
for (const name of packageGraph.keys()) {
  const srcDir = join(packagesDir, name, 'src');
  const files = new Set(sourceFiles(srcDir));
  const valueGraph = new Map();
  const anyGraph = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const at = (graph) => graph.get(file) ?? graph.set(file, new Set()).get(file);
    for (const [, type, specifier] of text.matchAll(staticImport)) {
      // NodeNext specifiers name the emitted `.js`; the source beside it is `.ts`.
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      if (!files.has(target)) continue;
      at(anyGraph).add(target);
      if (!type) at(valueGraph).add(target);
    }
    for (const [, dep] of text.matchAll(dynamicPackageImport)) {
      if (!allowedDependencies[name].includes(dep)) {
        errors.push(`packages/${relative(packagesDir, file)}: import('${scope}/${dep}') is not allowed; ${name} may depend on [${allowedDependencies[name].join(', ')}]`);
      }
    }
  }
  const show = (cycle) => cycle.map((file) => relative(srcDir, file)).join(' → ');
  for (const cycle of findCycles(valueGraph)) errors.push(`import cycle in packages/${name}/src: ${show(cycle)}`);
  for (const cycle of findCycles(anyGraph)) {
    const typeEdge = cycle.slice(1).some((to, i) => !valueGraph.get(cycle[i])?.has(to));
    if (typeEdge) warnings.push(`type-only import cycle in packages/${name}/src: ${show(cycle)}`);
  }
  const edges = [...anyGraph].flatMap(([from, targets]) => [...targets].map((to) => valueGraph.get(from)?.has(to)));
  const typeOnly = edges.filter((isValue) => !isValue).length;
  console.log(`check-cycles: packages/${name}/src: ${files.size} files, ${edges.length} file imports (${typeOnly} type-only)`);
}

for (const warning of warnings) console.warn(`warning: ${warning}`);
for (const error of errors) console.error(`error: ${error}`);
if (errors.length > 0) {
  console.error(`check-cycles: ${errors.length} problem(s); fix them or change the table in scripts/package-graph.mjs on purpose`);
  process.exit(1);
}
console.log(`check-cycles: ok, no cycles${warnings.length > 0 ? ` (${warnings.length} type-only warning(s))` : ''}`);
