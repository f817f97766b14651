import { integerFlag, listFlag, stringFlag, UsageError, type Command } from '../internal/command.js';
import { brokerFlags, resolveRedisFlags } from '../internal/connection-flags.js';

/** `celeriac api`: serves the HTTP API until SIGTERM/SIGINT. */
export const apiCommand: Command = {
  name: 'api',
  summary: 'Serve the HTTP API (OpenAPI docs at /docs) until SIGTERM or Ctrl-C.',
  usage: '',
  flags: {
    port: { type: 'string', short: 'p', description: 'Port to listen on (0 picks a free one)', defaultHint: '$PORT or 8080' },
    host: { type: 'string', description: 'Address to listen on', defaultHint: '127.0.0.1' },
    'keys-file': {
      type: 'string',
      description: 'API key file (JSON lines of { id, hash, scopes }; see celeriac api-key create)',
      defaultHint: '$CELERIAC_API_KEYS_FILE',
    },
    'no-auth': { type: 'boolean', description: 'Serve every route without a key (tests and trusted networks only)' },
    'cors-origins': { type: 'string', description: 'Comma-separated browser origins allowed to call the API', defaultHint: 'none' },
    ...brokerFlags,
  },
  async run(flags) {
    const { url, prefix } = resolveRedisFlags(flags);
    const keysFile = stringFlag(flags['keys-file']) ?? (process.env['CELERIAC_API_KEYS_FILE'] || undefined);
    if (flags['no-auth'] && keysFile !== undefined) throw new UsageError('give either --no-auth or a key file, not both');
    if (!flags['no-auth'] && keysFile === undefined) {
      throw new UsageError(
        'the API needs API keys: pass --keys-file <file> or set CELERIAC_API_KEYS_FILE (create a key with ' +
          '`celeriac api-key create --scopes admin --append <file>`), or --no-auth to serve every route openly on a trusted network',
      );
    }
    const origins = listFlag(flags['cors-origins']);
    const { createApiServer } = await import('@celeriac/api');
    const app = await createApiServer({
      connection: url,
      prefix,
      auth: keysFile === undefined ? false : { keysFile },
      ...(origins?.length ? { cors: { origins } } : {}),
      ...(flags['allow-eviction'] ? { allowEviction: true } : {}),
    });
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
