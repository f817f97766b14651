import { appendFileSync } from 'node:fs';
import type { ApiScope } from '@celeriac/api';
import { listFlag, stringFlag, UsageError, type Command } from '../internal/command.js';

/**
 * `celeriac api-key create --scopes read,submit`: makes a new API key, prints it once with the line the API's key
 * file needs (only the hash), and with --append adds that line to the file.
 */
export const apiKeyCommand: Command = {
  name: 'api-key',
  summary:
    'Create an API key: prints the key once, and the line (its SHA-256, id and scopes) to add to the API\'s key file. ' +
    'Scopes: read, submit, admin (admin grants all; submit does not grant read).',
  usage: 'create --scopes <read,submit,admin>',
  flags: {
    scopes: { type: 'string', short: 's', description: 'Comma-separated scopes: read, submit, admin' },
    id: { type: 'string', description: 'The key\'s id in logs, rate limits and the key file', defaultHint: 'key-<random>' },
    append: { type: 'string', description: 'Also append the line to this key file (JSON lines)' },
  },
  async run(flags, positionals) {
    const [action, ...extra] = positionals;
    if (action !== 'create' || extra.length > 0) {
      throw new UsageError(action === undefined ? 'expected the action "create"' : `unknown action "${[action, ...extra].join(' ')}"; use create`);
    }
    const scopes = listFlag(flags['scopes']);
    if (!scopes?.length) throw new UsageError('--scopes is required, e.g. --scopes read,submit');
    const { createApiKey } = await import('@celeriac/api');
    const id = stringFlag(flags['id']);
    // The cast is safe: createApiKey checks each scope, and its error names an unknown one.
    const { key, record } = createApiKey({ scopes: scopes as ApiScope[], ...(id === undefined ? {} : { id }) });
    const line = JSON.stringify(record);
    const file = stringFlag(flags['append']);
    if (file !== undefined) appendFileSync(file, `${line}\n`);
    console.log(
      [
        `API key "${record.id}" with scopes ${record.scopes.join(', ')}. It is shown only this once; store it now:`,
        '',
        `  ${key}`,
        '',
        file === undefined
          ? 'Add this line to the API\'s key file (--keys-file or CELERIAC_API_KEYS_FILE), then restart the API:'
          : `Appended this line to ${file}; restart the API to load it:`,
        '',
        `  ${line}`,
        '',
        'Clients send it as "Authorization: Bearer <key>"; the CLI reads CELERIAC_API_KEY.',
      ].join('\n'),
    );
    return 0;
  },
};
