import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, type ScalarTag } from 'yaml';
import { z } from 'zod';
import { defineTask, durationMs } from '@celeriac/core';
import { apiCommand, apiKeyCommand, workerCommand, type Command } from '@celeriac/cli';
import { resolveWorkerOptions } from '@celeriac/worker';

/**
 * The deployment files, checked without a Docker engine: docker-compose.yml and its override are parsed as YAML and
 * held against the repository, the CLI and deploy/Dockerfile, whose instructions are parsed here too. Each check
 * names the file and the thing that is wrong, because nothing else will until someone runs `docker compose up`.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

// ---- Dockerfile parsing ---------------------------------------------------------------------------------------------

const knownInstructions = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER',
  'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Line of the instruction's first line, 1-based. */
  readonly line: number;
}

/**
 * Splits a Dockerfile into instructions: joins `\` continuations, and drops comments and blank lines (also inside a
 * continuation, as Docker does).
 */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed === '') continue;
    const swallowed = /^([A-Z]+)\s/.exec(raw)?.[1];
    // An unindented instruction inside a continuation is almost surely a `\` left at the end of the line above.
    if (pending && swallowed && knownInstructions.has(swallowed)) {
      throw new Error(`line ${index + 1}: ${swallowed} is swallowed by the line continuation of line ${pending.line}`);
    }
    const continues = /\\\s*$/.test(raw);
    const piece = continues ? raw.replace(/\\\s*$/, '') : raw;
    pending = pending ? { text: `${pending.text} ${piece.trim()}`, line: pending.line } : { text: piece.trim(), line: index + 1 };
    if (continues) continue;
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(pending.text) ?? [];
    instructions.push({ keyword: keyword.toUpperCase(), args: args.trim(), line: pending.line });
    pending = undefined;
  }
  if (pending) throw new Error(`the last instruction (line ${pending.line}) ends with a line continuation`);
  return instructions;
}

/** The `--name=value` flags at the start of an instruction's arguments, and the rest. */
function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (let match = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); match; match = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags.set(match[1]!, match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

/** A JSON-array (exec form) argument, or the words of a shell-form one. */
function words(args: string): string[] {
  return args.startsWith('[') ? z.array(z.string()).parse(JSON.parse(args)) : args.split(/\s+/).filter(Boolean);
}

interface Stage {
  readonly name: string | undefined;
  readonly base: string;
  /** The stage this one builds on, when its base is an earlier stage. */
  readonly parent: Stage | undefined;
  readonly instructions: Instruction[];
}

/** Splits instructions into stages; `args` holds the ARGs declared before the first FROM, with their defaults. */
function splitStages(instructions: readonly Instruction[]): { args: Map<string, string | undefined>; stages: Stage[] } {
  const args = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const { rest } = splitFlags(instruction.args);
      const [base = '', as, name] = rest.split(/\s+/);
      if (as !== undefined && (as.toUpperCase() !== 'AS' || !name)) throw new Error(`line ${instruction.line}: expected FROM <image> AS <name>`);
      const parent = stages.find((stage) => stage.name === base);
      stages.push({ name, base, parent, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw new Error(`line ${instruction.line}: only ARG may come before the first FROM`);
      const [name = '', ...value] = instruction.args.split('=');
      args.set(name.trim(), value.length > 0 ? value.join('=').trim() : undefined);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The last value of `keyword` in a stage, following its parent stages (USER, CMD and ENTRYPOINT are inherited). */
function effective(stage: Stage | undefined, keyword: string): Instruction | undefined {
  if (!stage) return undefined;
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1) ?? effective(stage.parent, keyword);
}

/** The environment a stage sets for its processes (ENV key=value pairs, inherited from parent stages). */
function environmentOf(stage: Stage | undefined): Map<string, string> {
  if (!stage) return new Map();
  const env = environmentOf(stage.parent);
  for (const instruction of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const [, key, value] of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env.set(key!, value!.replace(/^"|"$/g, ''));
  }
  return env;
}

// ---- .dockerignore ----------------------------------------------------------------------------------------------------

/** The patterns of a .dockerignore as regular expressions over context-relative paths (no `!` exceptions). */
function parseDockerignore(text: string): RegExp[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((pattern) => {
      expect(pattern.startsWith('!'), `.dockerignore: exceptions (${pattern}) are not handled by this test`).toBe(false);
      const source = posix
        .normalize(pattern.replace(/^\/+/, ''))
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      // A pattern that matches a folder excludes everything under it.
      return new RegExp(`^${source}(?:/.*)?$`);
    });
}

// ---- the files --------------------------------------------------------------------------------------------------------

const resetTag: ScalarTag = { tag: '!reset', resolve: () => ({ reset: true }) };
const collectionResetTag = { tag: '!reset', collection: 'map' as const, resolve: () => ({ reset: true }) };
const parseCompose = (path: string): unknown =>
  parse(read(path), { merge: true, customTags: [resetTag, collectionResetTag], prettyErrors: true });

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string().optional(), target: z.string().optional() }).optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })).optional(),
  healthcheck: z.object({ test: z.array(z.string()).min(2), interval: z.string(), timeout: z.string(), retries: z.number() }).optional(),
  stop_grace_period: z.string().optional(),
  volumes: z.array(z.string()).optional(),
  deploy: z.unknown().optional(),
});
const composeSchema = z.object({
  name: z.string(),
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.unknown().nullable()).optional(),
});

const compose = composeSchema.parse(parseCompose('docker-compose.yml'));
const services = Object.entries(compose.services);
/** The services that run the `celeriac` CLI from our images. */
const celeriacServices = services.filter(([, service]) => service.build !== undefined);

const dockerfiles = new Map<string, ReturnType<typeof splitStages>>();
function dockerfile(path: string): ReturnType<typeof splitStages> {
  let parsed = dockerfiles.get(path);
  if (!parsed) dockerfiles.set(path, (parsed = splitStages(parseDockerfile(read(path)))));
  return parsed;
}
const dockerfilePaths = [...new Set(celeriacServices.map(([, s]) => posix.join(s.build!.context, s.build!.dockerfile ?? 'Dockerfile')))];
const commands = new Map<string, Command>([apiCommand, workerCommand, apiKeyCommand].map((command) => [command.name, command]));

/** Every environment variable the CLI reads, found in its source rather than copied here. */
function envReadByCli(): Set<string> {
  const names = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir))) {
      const path = posix.join(dir, entry);
      if (statSync(join(root, path)).isDirectory()) visit(path);
      else if (path.endsWith('.ts')) for (const [, name] of read(path).matchAll(/process\.env(?:\['|\.)([A-Z_][A-Z0-9_]*)/g)) names.add(name!);
    }
  };
  visit('packages/cli/src');
  return names;
}

/** Checks a CLI invocation (`["worker", "--tasks", ...]`) against the command's real flags. */
function expectValidCli(argv: readonly string[], where: string): Command {
  const command = commands.get(argv[0] ?? '');
  expect(command, `${where}: "${argv[0]}" is not a celeriac command`).toBeDefined();
  for (const arg of argv.filter((a) => a.startsWith('--'))) {
    const flag = arg.slice(2).split('=')[0]!;
    expect(Object.keys(command!.flags), `${where}: celeriac ${command!.name} has no flag --${flag}`).toContain(flag);
  }
  return command!;
}

const flagValue = (argv: readonly string[], flag: string) => (argv.includes(`--${flag}`) ? argv[argv.indexOf(`--${flag}`) + 1] : undefined);

describe('docker-compose.yml', () => {
  it('builds every celeriac service from a Dockerfile stage that exists', () => {
    expect(celeriacServices.map(([name]) => name).sort()).toEqual(['api', 'gpu-worker', 'worker']);
    for (const [name, { build }] of celeriacServices) {
      expect(existsSync(join(root, build!.context)), `${name}: build context ${build!.context} is missing`).toBe(true);
      const path = posix.join(build!.context, build!.dockerfile ?? 'Dockerfile');
      expect(existsSync(join(root, path)), `${name}: ${path} is missing`).toBe(true);
      const stages = dockerfile(path).stages.map((stage) => stage.name);
      expect(stages, `${name}: ${path} has no stage "${build!.target}"`).toContain(build!.target);
    }
  });

  it('gives every service a healthcheck, and waits only on services that have one', () => {
    for (const [name, service] of services) {
      expect(service.healthcheck, `${name} has no healthcheck`).toBeDefined();
      expect(['CMD', 'CMD-SHELL'], `${name}: healthcheck test must start with CMD or CMD-SHELL`).toContain(service.healthcheck!.test[0]);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(compose.services[dependency], `${name} depends on unknown service ${dependency}`).toBeDefined();
        if (condition === 'service_healthy') expect(compose.services[dependency]!.healthcheck, `${dependency} has no healthcheck to wait on`).toBeDefined();
      }
    }
  });

  it('runs Redis with an append-only file synced every second and no eviction', () => {
    const command = compose.services['redis']?.command ?? [];
    const option = (name: string) => command[command.indexOf(`--${name}`) + 1];
    expect(command[0]).toBe('redis-server');
    expect(option('appendonly')).toBe('yes');
    expect(option('appendfsync')).toBe('everysec');
    expect(option('maxmemory-policy')).toBe('noeviction');
    expect(compose.services['redis']?.volumes?.some((volume) => volume.endsWith(':/data')), 'the AOF needs a volume at /data').toBe(true);
  });

  it('reserves an NVIDIA GPU for the GPU worker, and the override drops only that', () => {
    const reservation = z
      .object({ resources: z.object({ reservations: z.object({ devices: z.array(z.object({ driver: z.string(), capabilities: z.array(z.string()) })).min(1) }) }) })
      .parse(compose.services['gpu-worker']?.deploy);
    expect(reservation.resources.reservations.devices[0]).toMatchObject({ driver: 'nvidia', capabilities: expect.arrayContaining(['gpu']) });
    const override = z.object({ services: z.record(z.string(), z.object({ deploy: z.object({ reset: z.literal(true) }) })) }).parse(parseCompose('deploy/compose.no-gpu.yml'));
    expect(Object.keys(override.services)).toEqual(['gpu-worker']);
  });

  it('runs real CLI commands with flags the CLI has, and sets only environment variables the CLI reads', () => {
    const cliEnv = envReadByCli();
    for (const [name, service] of celeriacServices) {
      const { stages } = dockerfile(posix.join(service.build!.context, service.build!.dockerfile ?? 'Dockerfile'));
      const stage = stages.find((s) => s.name === service.build!.target)!;
      const argv = service.command ?? words(effective(stage, 'CMD')!.args);
      expectValidCli(argv, name);
      const env = { ...Object.fromEntries(environmentOf(stage)), ...service.environment };
      for (const key of Object.keys(env).filter((k) => k.startsWith('CELERIAC_') || k === 'REDIS_URL' || k === 'PORT')) {
        expect([...cliEnv], `${name}: the CLI never reads ${key}`).toContain(key);
      }
      expect(env['REDIS_URL'], `${name}: REDIS_URL must point at the redis service`).toMatch(/redis:\/\/redis:6379/);
    }
  });

  it('lets workers finish their jobs on shutdown, and probes their health port', () => {
    const defaultShutdownMs = resolveWorkerOptions({ tasks: [defineTask({ name: 'noop', input: z.null(), output: z.null(), handler: () => null })] }).shutdownTimeoutMs;
    for (const [name, service] of celeriacServices.filter(([, s]) => s.command?.[0] === 'worker')) {
      const shutdownFlag = flagValue(service.command!, 'shutdown-timeout');
      const shutdownMs = shutdownFlag === undefined ? defaultShutdownMs : durationMs.parse(shutdownFlag);
      const graceMs = durationMs.parse(service.stop_grace_period ?? '10s');
      expect(graceMs, `${name}: stop_grace_period must outlast the worker's ${shutdownMs} ms shutdown timeout`).toBeGreaterThan(shutdownMs);
      const port = service.environment?.['CELERIAC_HEALTH_PORT'];
      expect(port, `${name}: set CELERIAC_HEALTH_PORT so the healthcheck has something to probe`).toMatch(/^\d+$/);
      expect(service.healthcheck!.test.join(' '), `${name}: the healthcheck must probe /livez on port ${port}`).toContain(`:${port}/livez`);
    }
  });

  it('mounts only declared named volumes', () => {
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) continue; // a bind mount
        expect(Object.keys(compose.volumes ?? {}), `${name} mounts undeclared volume ${source}`).toContain(source);
      }
    }
  });
});

describe.each(dockerfilePaths)('%s', (path) => {
  const instructions = parseDockerfile(read(path));
  const { args, stages } = dockerfile(path);
  const ignored = parseDockerignore(read('.dockerignore'));

  it('uses only known instructions, and stage bases that exist', () => {
    for (const { keyword, line } of instructions) expect(knownInstructions, `${path}:${line}: unknown instruction ${keyword}`).toContain(keyword);
    for (const stage of stages) {
      const variable = /^\$\{?(\w+)\}?$/.exec(stage.base)?.[1];
      if (variable) expect([...args.keys()], `${path}: FROM ${stage.base} uses an ARG not declared before the first FROM`).toContain(variable);
      else if (!stage.parent) expect(stage.base, `${path}: FROM ${stage.base} is neither a stage nor an image:tag`).toMatch(/[:/@]/);
    }
    const names = stages.map((stage) => stage.name).filter(Boolean);
    expect(new Set(names).size, `${path}: two stages share a name`).toBe(names.length);
  });

  it('copies from stages defined before, and from repository paths that exist and are not ignored', () => {
    for (const [index, stage] of stages.entries()) {
      for (const { keyword, args: copyArgs, line } of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
        const { flags, rest } = splitFlags(copyArgs);
        const from = flags.get('from');
        if (from !== undefined) {
          const earlier = stages.slice(0, index).map((s) => s.name);
          expect(earlier, `${path}:${line}: COPY --from=${from} names no earlier stage`).toContain(from);
          continue;
        }
        const sources = words(rest).slice(0, -1);
        expect(sources.length, `${path}:${line}: ${keyword} needs a source and a destination`).toBeGreaterThan(0);
        for (const source of sources) {
          expect(existsSync(join(root, source)), `${path}:${line}: ${keyword} source ${source} does not exist`).toBe(true);
          const relative = posix.normalize(source);
          if (relative === '.') continue;
          expect(ignored.some((pattern) => pattern.test(relative)), `${path}:${line}: ${source} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('keeps host build output and secrets out of the build context', () => {
    for (const path of ['node_modules', 'packages/core/node_modules', 'packages/core/dist', 'api-keys.jsonl', '.git']) {
      expect(ignored.some((pattern) => pattern.test(path)), `.dockerignore should exclude ${path}`).toBe(true);
    }
  });

  it.each(celeriacServices.map(([, s]) => s.build!.target!).concat(stages.at(-1)!.name!))(
    'target %s runs the CLI as a non-root user under an init',
    (target) => {
      const stage = stages.find((s) => s.name === target)!;
      const user = effective(stage, 'USER')?.args;
      expect(user, `${path}: stage ${target} runs as root; add a USER`).toBeDefined();
      expect(['root', '0', '0:0'], `${path}: stage ${target} runs as root`).not.toContain(user);
      const entrypoint = words(effective(stage, 'ENTRYPOINT')?.args ?? '[]');
      const cmd = effective(stage, 'CMD');
      expect(entrypoint.length + (cmd ? 1 : 0), `${path}: stage ${target} has neither ENTRYPOINT nor CMD`).toBeGreaterThan(0);
      // PID 1 must forward SIGTERM to node, or `docker stop` ends in a SIGKILL and no graceful shutdown.
      expect(entrypoint[0], `${path}: stage ${target} must start under tini`).toMatch(/(^|\/)tini$/);
      const workdir = effective(stage, 'WORKDIR')?.args ?? '/';
      const script = entrypoint.find((word) => word.endsWith('.js'));
      expect(script, `${path}: stage ${target}'s ENTRYPOINT runs no script`).toBeDefined();
      expect(existsSync(join(root, posix.relative(workdir, script!))), `${path}: ${script} is not in the repository`).toBe(true);
      if (cmd) expectValidCli(words(cmd.args), `${path} stage ${target} CMD`);
      const env = environmentOf(stage);
      const healthcheck = effective(stage, 'HEALTHCHECK');
      if (env.has('CELERIAC_HEALTH_PORT')) expect(healthcheck?.args, `${path}: stage ${target} should probe /livez`).toContain('/livez');
    },
  );

  it('gives the GPU worker a Vulkan loader, lavapipe from backports, and the NVIDIA graphics capability', () => {
    const gpu = stages.find((stage) => stage.name === 'gpu-worker')!;
    const run = gpu.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' ');
    expect(run).toMatch(/bookworm-backports/);
    expect(run).toMatch(/-t bookworm-backports[^&]*\bmesa-vulkan-drivers\b/);
    expect(run).toMatch(/\blibvulkan1\b/);
    const capabilities = environmentOf(gpu).get('NVIDIA_DRIVER_CAPABILITIES')?.split(',') ?? [];
    expect(capabilities).toEqual(expect.arrayContaining(['graphics', 'compute']));
    const variable = /^\$\{?(\w+)\}?$/.exec(stages[0]!.base)?.[1];
    expect(variable === undefined ? stages[0]!.base : args.get(variable), 'the images build on node:22-bookworm-slim').toBe('node:22-bookworm-slim');
  });
});

describe('the Dockerfile parser', () => {
  it('joins continuations, skips comments inside them, and fails on a dangling one', () => {
    expect(parseDockerfile('FROM a:1 AS b\n# c\nRUN x \\\n  # inside\n  && y\n')).toEqual([
      { keyword: 'FROM', args: 'a:1 AS b', line: 1 },
      { keyword: 'RUN', args: 'x && y', line: 3 },
    ]);
    expect(() => parseDockerfile('RUN x \\\n')).toThrow(/continuation/);
    expect(() => parseDockerfile('RUN x \\\nENV A=1\n')).toThrow(/ENV is swallowed/);
  });

  it('follows USER and CMD through parent stages, and matches .dockerignore patterns', () => {
    const { stages } = splitStages(parseDockerfile('FROM n:1 AS base\nUSER node\nCMD ["api"]\nFROM base AS api\nFROM base AS rooted\nUSER root\n'));
    expect(effective(stages[1], 'USER')?.args).toBe('node');
    expect(effective(stages[2], 'USER')?.args).toBe('root');
    const ignored = parseDockerignore('**/dist\ndocs\n');
    expect(['packages/a/dist/x.js', 'dist', 'docs/deploy.md'].every((p) => ignored.some((r) => r.test(p)))).toBe(true);
    expect(['distant', 'packages/docs', 'src/dist.ts'].some((p) => ignored.some((r) => r.test(p)))).toBe(false);
  });
});
