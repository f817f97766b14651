import { integerFlag, stringFlag, type Command } from '../internal/command.js';
import { redisFlags, resolveRedisFlags } from '../internal/connection-flags.js';

/** `celeriac api`: serves the HTTP API until SIGTERM/SIGINT. */
export const apiCommand: Command = {
  name: 'api',
  summary: 'Serve the HTTP API (OpenAPI docs at /docs) until SIGTERM or Ctrl-C.',
  usage: '',
  flags: {
    port: { type: 'string', short: 'p', description: 'Port to listen on (0 picks a free one)', defaultHint: '$PORT or 8080' },
    host: { type: 'string', description: 'Address to listen on', defaultHint: '127.0.0.1' },
    ...redisFlags,
  },
  async run(flags) {
    const { url, prefix } = resolveRedisFlags(flags);
    const { createApiServer } = await import('@celeriac/api');
    const app = await createApiServer({ connection: url, prefix });
    const port = integerFlag(flags['port'] ?? process.env['PORT'], 'port', 8080, 0);
    await app.listen({ host: stringFlag(flags['host']) ?? '127.0.0.1', port });
    await new Promise<void>((resolve) => {
      const stop = () => void app.close().then(() => resolve());
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    return 0;
  },
};
