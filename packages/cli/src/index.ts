/**
 * @celeriac/cli: the `celeriac` command. Its commands are also importable, for tools that embed them.
 *
 * @example
 * ```sh
 * npx celeriac dev                 # Redis + worker + API with the example tasks
 * npx celeriac submit add '{"x": 2, "y": 3}' --wait
 * ```
 * @packageDocumentation
 */
export { devCommand } from './commands/dev-command.js';
export { workerCommand } from './commands/worker-command.js';
export { apiCommand } from './commands/api-command.js';
export { submitCommand } from './commands/submit-command.js';
export { statusCommand } from './commands/status-command.js';
export { apiKeyCommand } from './commands/api-key-command.js';
export { inspectCommand } from './commands/inspect-command.js';
export { controlCommand } from './commands/control-command.js';
export { scheduleCommand } from './commands/schedule-command.js';
export { formatHelp, type Command, type FlagSpec } from './internal/command.js';
