/**
 * The `celeriac` command line: dispatches to one subcommand and turns its errors into exit codes. Commands load
 * their heavy dependencies (Fastify, BullMQ, the worker) inside `run`, so `--help` and `status` start fast.
 */
import { isCeleriacError } from '@celeriac/core';
import { formatHelp, parseCommandLine, UsageError, type Command } from './internal/command.js';
import { apiCommand } from './commands/api-command.js';
import { apiKeyCommand } from './commands/api-key-command.js';
import { devCommand } from './commands/dev-command.js';
import { statusCommand } from './commands/status-command.js';
import { inspectCommand } from './commands/inspect-command.js';
import { controlCommand } from './commands/control-command.js';
import { scheduleCommand } from './commands/schedule-command.js';
import { submitCommand } from './commands/submit-command.js';
import { workerCommand } from './commands/worker-command.js';

const commands: readonly Command[] = [
  devCommand,
  workerCommand,
  apiCommand,
  apiKeyCommand,
  submitCommand,
  statusCommand,
  inspectCommand,
  controlCommand,
  scheduleCommand,
];

const overview = [
  'Usage: celeriac <command> [options]',
  '',
  'A distributed task queue for TypeScript, with GPU workers.',
  '',
  'Commands:',
  ...commands.map((command) => `  ${command.name.padEnd(8)} ${command.summary.split('. ')[0]?.replace(/\.$/, '')}`),
  '',
  "Run 'celeriac <command> --help' for a command's options.",
].join('\n');

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview);
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    console.error(`celeriac: unknown command "${name}".\n\n${overview}`);
    return 2;
  }
  try {
    const parsed = parseCommandLine(command, rest);
    return parsed ? await command.run(parsed.flags, parsed.positionals) : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`celeriac ${command.name}: ${error.message}\n\n${formatHelp(command)}`);
      return 2;
    }
    if (isCeleriacError(error)) {
      console.error(`celeriac ${command.name}: ${error.message} [${error.code}]`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
