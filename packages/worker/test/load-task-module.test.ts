import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isCeleriacError } from '@celeriac/core';
import { loadTaskModule } from '@celeriac/worker';

const examples = new URL('../../../examples/dist/', import.meta.url);

async function errorOf(module: string | URL): Promise<Error> {
  const error = await loadTaskModule(module).catch((e: unknown) => e);
  expect(isCeleriacError(error, ErrorCode.InvalidOptions)).toBe(true);
  return error as Error;
}

describe('loadTaskModule', () => {
  it('collects exported tasks and arrays of tasks once each, from a path or a file URL', async () => {
    const byUrl = await loadTaskModule(new URL('index.js', examples));
    expect(byUrl.map((task) => task.name).sort()).toEqual(['add', 'dot-product', 'linear-combination', 'matrix-multiply', 'sum-partials', 'vector-add']);
    const byPath = await loadTaskModule(fileURLToPath(new URL('add.js', examples)));
    expect(byPath.map((task) => task.name)).toEqual(['add']);
  });

  it('says what is wrong with a missing file, or a module without tasks', async () => {
    expect((await errorOf('/no/such/tasks.js')).message).toContain('no file at /no/such/tasks.js');
    expect((await errorOf(new URL('same-length.js', examples))).message).toContain('exports no tasks');
  });
});
