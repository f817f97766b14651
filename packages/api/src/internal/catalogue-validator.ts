import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CeleriacError, ErrorCode, typedArrayDtypeKey, type CatalogueEntry, type ValidationIssue } from '@celeriac/core';
import type { CatalogueCache } from '@celeriac/client';
import { decodeTypedArrayFields } from './typed-array-json.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** What is prepared once per published version of a task's input schema. */
interface CompiledInputSchema {
  readonly publishedAtMs: number;
  readonly validate: ValidateFunction;
  /** Whether the schema may have a typed-array field; without one, submissions skip the decoding walk. */
  readonly hasTypedArrays: boolean;
}

/**
 * The task catalogue as the API sees it: read from Redis (where workers publish it) through the client's cache, with a
 * compiled JSON Schema validator per task. The API validates submissions with these, never with user code.
 */
export class CatalogueValidator {
  private readonly ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
  private readonly compiled = new Map<string, CompiledInputSchema>();

  constructor(private readonly catalogue: CatalogueCache) {}

  /** Every published task, sorted by name. */
  list(): Promise<CatalogueEntry[]> {
    return this.catalogue.list();
  }

  /**
   * The entry for `name`.
   * @throws CeleriacError `CELERIAC_TASK_NOT_FOUND`
   */
  async get(name: string): Promise<CatalogueEntry> {
    const entry = await this.catalogue.get(name);
    if (entry) return entry;
    throw new CeleriacError(
      ErrorCode.TaskNotFound,
      `No worker has published a task named "${name}". Check the name (GET /v1/tasks lists them), or start a worker that has it.`,
      { details: { task: name } },
    );
  }

  /**
   * A submitted input, ready to enqueue: validated against the task's input schema, then with its typed-array fields
   * (base64 over HTTP, as the published schema says) turned into typed arrays. `at` is where the input sits in the
   * request.
   * @throws CeleriacError `CELERIAC_INVALID_INPUT` with one issue per bad field (`body.x`)
   */
  parseInput(entry: CatalogueEntry, input: unknown, at = 'body'): unknown {
    const { validate, hasTypedArrays } = this.compiledFor(entry);
    this.assertValidInput(entry, validate, input, at);
    return hasTypedArrays ? decodeTypedArrayFields(input, entry.inputSchema, at) : input;
  }

  private assertValidInput(entry: CatalogueEntry, validate: ValidateFunction, input: unknown, at: string): void {
    if (validate(input)) return;
    const issues: ValidationIssue[] = (validate.errors ?? []).map((error) => {
      const segments = [at, ...error.instancePath.split('/').filter(Boolean)];
      // A missing property is reported by ajv at its parent; point at the property itself.
      const missing = error.keyword === 'required' ? (error.params as { missingProperty?: string }).missingProperty : undefined;
      return { path: [...segments, ...(missing ? [missing] : [])].join('.'), message: error.message ?? 'is invalid' };
    });
    throw new CeleriacError(
      ErrorCode.InvalidInput,
      `Invalid input for task "${entry.name}": ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}.`,
      { details: { task: entry.name, issues } },
    );
  }

  private compiledFor(entry: CatalogueEntry): CompiledInputSchema {
    const known = this.compiled.get(entry.name);
    // A worker republishing (a deploy) bumps publishedAtMs, which recompiles the schema.
    if (known && known.publishedAtMs === entry.publishedAtMs) return known;
    const compiled: CompiledInputSchema = {
      publishedAtMs: entry.publishedAtMs,
      validate: this.ajv.compile(entry.inputSchema),
      // Looked up once here, not walked on every submission. A property that happens to bear the key's name only
      // costs that walk, which then finds nothing to decode.
      hasTypedArrays: JSON.stringify(entry.inputSchema).includes(`"${typedArrayDtypeKey}"`),
    };
    this.compiled.set(entry.name, compiled);
    return compiled;
  }
}
