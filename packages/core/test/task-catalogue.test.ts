import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogueEntrySchema, defineTask, toCatalogueEntry } from '@celeriac/core';

const resize = defineTask({
  name: 'images.resize',
  description: 'Resizes an image.',
  queue: 'images',
  resources: { gpu: 1 },
  input: z.object({ url: z.string(), width: z.number().int().default(256), format: z.enum(['png', 'webp']).optional() }),
  output: z.object({ bytes: z.number(), format: z.string().default('png') }),
  handler: () => ({ bytes: 1 }),
});

describe('toCatalogueEntry', () => {
  it('describes the task for the published catalogue', () => {
    const before = Date.now();
    const entry = toCatalogueEntry(resize);

    expect(entry).toMatchObject({
      name: 'images.resize',
      queue: 'images',
      description: 'Resizes an image.',
      resources: { gpu: 1 },
    });
    expect(entry.publishedAtMs).toBeGreaterThanOrEqual(before);
    expect(catalogueEntrySchema.parse(entry)).toEqual(entry);
  });

  it('gives the input side of the input schema: fields with a default are not required', () => {
    const { inputSchema } = toCatalogueEntry(resize);

    expect(inputSchema).toMatchObject({
      type: 'object',
      properties: {
        url: { type: 'string' },
        width: { type: 'integer', default: 256 },
        format: { enum: ['png', 'webp'] },
      },
      required: ['url'],
    });
  });

  it('gives the output side of the output schema: defaulted fields are always present there', () => {
    expect(toCatalogueEntry(resize).outputSchema).toMatchObject({
      type: 'object',
      properties: { bytes: { type: 'number' }, format: { type: 'string' } },
      required: ['bytes', 'format'],
    });
  });

  it('survives JSON, the form it is stored in Redis', () => {
    const entry = toCatalogueEntry(resize);

    expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
  });

  it('leaves out a missing description and describes what JSON Schema cannot express as {}', () => {
    const task = defineTask({
      name: 'calendar.next',
      input: z.object({ after: z.date() }),
      output: z.date(),
      handler: ({ after }) => after,
    });

    const entry = toCatalogueEntry(task);

    expect(entry).not.toHaveProperty('description');
    expect(entry.inputSchema).toMatchObject({ properties: { after: {} }, required: ['after'] });
  });
});
