import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Duration } from '@celeriac/core';

/** A flag of a command, as `node:util` parseArgs takes it, plus the line `--help` prints. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly description: string;
  /** Shown in help as `(default: …)`; applied by the command, since defaults often come from the environment. */
  readonly defaultHint?: string;
}

/** One `celeriac` subcommand. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments, e.g. `<task> <json>`. */
  readonly usage: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Runs with parsed flags and positionals; resolves to the process exit code. */
  run(flags: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** A mistake in how the command was called: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `argv` for `command`; returns `undefined` after printing help when `--help` is given. */
export function parseCommandLine(
  command: Command,
  argv: readonly string[],
): { flags: Record<string, string | boolean | undefined>; positionals: string[] } | undefined {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, flag] of Object.entries(command.flags)) {
    options[name] = flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' messages name the flag ("Unknown option '--porrt'"); keep them, minus its own advice.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values['help']) {
    console.log(formatHelp(command));
    return undefined;
  }
  return { flags: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** The `--help` text of a command. */
export function formatHelp(command: Command): string {
  const rows = Object.entries(command.flags).map(([name, flag]) => {
    const left = `${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.type === 'string' ? ' <value>' : ''}`;
    const hint = flag.defaultHint ? ` (default: ${flag.defaultHint})` : '';
    return `  ${left.padEnd(32)} ${flag.description}${hint}`;
  });
  return [
    `Usage: celeriac ${command.name}${command.usage ? ` ${command.usage}` : ''} [options]`,
    '',
    command.summary,
    '',
    'Options:',
    ...rows,
    `  ${'-h, --help'.padEnd(32)} Show this help`,
  ].join('\n');
}

/** Reads a flag that must be a positive integer. */
export function integerFlag(value: string | boolean | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(value)}"`);
  return parsed;
}

/** Reads a string flag (typed `string | boolean | undefined` by parseArgs). */
export function stringFlag(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads a comma-separated flag (`--queues a, b`) as its trimmed, non-empty items; `undefined` when not given. */
export function listFlag(value: string | boolean | undefined): string[] | undefined {
  return stringFlag(value)?.split(',').map((item) => item.trim()).filter(Boolean);
}

/**
 * Parses a positional argument that holds JSON (a task's input).
 * @throws UsageError naming the JSON error and showing how to quote the argument
 */
export function jsonArgument(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new UsageError(`the input is not valid JSON (${(error as Error).message}); quote it: '{"x": 1}'`);
  }
}

/**
 * Reads a duration flag: digits are milliseconds, anything else (`30s`) is passed on as written. The options
 * schema of whatever receives it validates the text, so a bad value still gets a message naming the field.
 */
export function durationFlag(value: string): Duration {
  return (/^\d+$/.test(value) ? Number(value) : value) as Duration;
}
