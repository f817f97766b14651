import {
  CeleriacError,
  ErrorCode,
  dtypeOf,
  typedArrayConstructorOf,
  typedArrayDtypeKey,
  type ValidationIssue,
} from '@celeriac/core';

type JsonSchema = Readonly<Record<string, unknown>>;

/** How deep a body is followed; JSON Schemas of task inputs are not that deep. */
const maxDepth = 64;
/** Standard base64 (RFC 4648 §4), padded. Buffer.from would skip bad characters silently; a submission must not. */
const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Turns the base64 strings of a submission's typed-array fields into typed arrays, guided by the task's published
 * JSON Schema (the fields whose schema carries `x-celeriac-dtype`). Run it after the body passed the schema.
 *
 * Over HTTP a typed array is the base64 of its little-endian bytes: `Float32Array.of(1)` is `"AACAPw=="`.
 *
 * @param at where the value sits in the request, for error paths (`body`, `body.input`)
 * @throws CeleriacError `CELERIAC_INVALID_INPUT` naming each field that is not base64, or whose byte count is not a
 *   multiple of its element size
 */
export function decodeTypedArrayFields(value: unknown, schema: JsonSchema, at = 'body'): unknown {
  const issues: ValidationIssue[] = [];
  const decoded = new SchemaWalk(schema, issues).visit(value, schema, [at], 0);
  if (issues.length === 0) return decoded;
  throw new CeleriacError(
    ErrorCode.InvalidInput,
    `Invalid typed-array field: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}. Send each typed array as ` +
      'the standard base64 of its little-endian bytes.',
    { details: { issues } },
  );
}

/**
 * Replaces every typed array in a value (in plain objects and arrays) by the base64 of its bytes, for a JSON answer;
 * the task's output schema (`x-celeriac-dtype`) tells clients which type to decode it to. The static type is kept:
 * the fields it changes are `unknown` in the records this serves.
 */
export function encodeTypedArrays<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth > maxDepth) return value;
  if (dtypeOf(value) !== undefined) {
    const view = value as unknown as ArrayBufferView;
    return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64') as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => encodeTypedArrays(item, depth + 1)) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = encodeTypedArrays(item, depth + 1);
  return out as T;
}

/** One walk of a value along a JSON Schema (draft 2020-12, as zod writes it), collecting issues. */
class SchemaWalk {
  constructor(
    private readonly root: JsonSchema,
    private readonly issues: ValidationIssue[],
  ) {}

  visit(value: unknown, schema: JsonSchema | undefined, path: readonly string[], depth: number): unknown {
    if (!schema || depth > maxDepth) return value;
    const resolved = this.resolve(schema);
    if (typeof resolved[typedArrayDtypeKey] === 'string' && typeof value === 'string') {
      return this.decode(value, resolved[typedArrayDtypeKey], path);
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = asSchemas(resolved[key]);
      const branch = branches.find((candidate) => matches(this.resolve(candidate), value));
      if (branch) return this.visit(value, branch, path, depth + 1);
    }
    let out = value;
    for (const part of asSchemas(resolved['allOf'])) out = this.visit(out, part, path, depth + 1);
    if (Array.isArray(out)) return this.visitArray(out, resolved, path, depth);
    if (typeof out === 'object' && out !== null) return this.visitObject(out as Record<string, unknown>, resolved, path, depth);
    return out;
  }

  private visitArray(value: readonly unknown[], schema: JsonSchema, path: readonly string[], depth: number): unknown[] {
    const prefix = asSchemas(schema['prefixItems']);
    const items = asSchema(schema['items']);
    return value.map((item, index) => this.visit(item, prefix[index] ?? items, [...path, String(index)], depth + 1));
  }

  private visitObject(
    value: Record<string, unknown>,
    schema: JsonSchema,
    path: readonly string[],
    depth: number,
  ): Record<string, unknown> {
    const properties = asSchema(schema['properties']) ?? {};
    const additional = asSchema(schema['additionalProperties']);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const propertySchema = Object.hasOwn(properties, key) ? asSchema(properties[key]) : additional;
      out[key] = this.visit(item, propertySchema, [...path, key], depth + 1);
    }
    return out;
  }

  private decode(text: string, dtype: string, path: readonly string[]): unknown {
    const Ctor = typedArrayConstructorOf(dtype);
    if (!Ctor) return text; // a dtype from a newer worker: leave it for the worker to judge
    if (text.length % 4 !== 0 || !base64Pattern.test(text)) {
      this.issues.push({ path: path.join('.'), message: `is not standard base64 (expected the bytes of a ${dtype} array)` });
      return text;
    }
    const bytes = Buffer.from(text, 'base64');
    const size = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (bytes.byteLength % size !== 0) {
      this.issues.push({ path: path.join('.'), message: `has ${bytes.byteLength} bytes, not a multiple of ${size} (${dtype})` });
      return text;
    }
    // Copied into an array that owns its buffer: Buffer's memory may be pooled and unaligned.
    const array = new Ctor(bytes.byteLength / size);
    new Uint8Array(array.buffer).set(bytes);
    return array;
  }

  /** Follows a local `$ref` (`#/$defs/Name`), as zod writes for named or recursive schemas. */
  private resolve(schema: JsonSchema): JsonSchema {
    const ref = schema['$ref'];
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
    let target: unknown = this.root;
    for (const segment of ref.slice(2).split('/')) {
      target = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)[segment] : undefined;
    }
    return asSchema(target) ?? schema;
  }
}

function asSchema(value: unknown): JsonSchema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}

function asSchemas(value: unknown): JsonSchema[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown): JsonSchema[] => {
    const schema = asSchema(item);
    return schema ? [schema] : [];
  });
}

/**
 * Whether a union's branch fits a value, judged cheaply: by JSON type, and for objects by the `const` properties
 * that tell a discriminated union's branches apart. The body already passed the whole schema, so this only picks.
 */
function matches(schema: JsonSchema, value: unknown): boolean {
  if (typeof schema[typedArrayDtypeKey] === 'string') return typeof value === 'string';
  const type = schema['type'];
  const types = Array.isArray(type) ? type : type === undefined ? undefined : [type];
  if (types && !types.some((t) => jsonTypeMatches(t, value))) return false;
  if ('const' in schema && schema['const'] !== value) return false;
  const properties = asSchema(schema['properties']);
  if (!properties || typeof value !== 'object' || value === null) return true;
  return Object.entries(properties).every(([key, property]) => {
    const constant = asSchema(property)?.['const'];
    return constant === undefined || (value as Record<string, unknown>)[key] === constant;
  });
}

function jsonTypeMatches(type: unknown, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}
