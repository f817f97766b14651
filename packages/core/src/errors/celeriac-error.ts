import { errorCatalogue, isErrorCode, ErrorCode } from './error-catalogue.js';

/**
 * Brand carried by every celeriac error. `Symbol.for` puts it in the global symbol registry, so the check in
 * {@link isCeleriacError} works across module copies and realms, where `instanceof` does not. Errors that cross a
 * process or thread boundary are cloned without it, so they travel as {@link SerializedError}.
 */
const celeriacErrorBrand = Symbol.for('celeriac.error');

/** Options shared by every celeriac error constructor. */
export interface CeleriacErrorOptions {
  /** Structured, JSON-serialisable facts about the failure (field paths, limits, ids). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The lower-level error that caused this one. */
  readonly cause?: unknown;
  /** Overrides the catalogue's retry decision for this one instance. */
  readonly retryable?: boolean;
}

/**
 * The one error class celeriac throws. It carries a catalogue `code`, structured `details` and a `cause`.
 *
 * @example
 * ```ts
 * throw new CeleriacError(ErrorCode.JobNotFound, `Job "${id}" was not found; it may have expired.`, { details: { id } });
 * ```
 */
export class CeleriacError extends Error {
  /** The catalogue code; stable across versions, safe to match on. */
  readonly code: ErrorCode;
  /** Structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;
  /** Whether running the job again may help. */
  readonly retryable: boolean;
  /** @internal brand, see {@link isCeleriacError} */
  readonly [celeriacErrorBrand] = true;

  constructor(code: ErrorCode, message: string, options: CeleriacErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CeleriacError';
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? errorCatalogue[code].retryable;
  }

  /** The HTTP status that the API answers with for this error. */
  get httpStatus(): number {
    return errorCatalogue[this.code].httpStatus;
  }

  /** The JSON form stored in Redis and sent over HTTP. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, retryable: this.retryable, details: { ...this.details } };
  }
}

/** The wire form of an error: what a job's failure looks like in Redis, in the SDK and over HTTP. */
export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
}

/**
 * Whether `error` is a celeriac error, optionally with a given code. Works across module copies and realms because
 * it checks the global-registry brand, not the prototype chain.
 */
export function isCeleriacError(error: unknown, code?: ErrorCode): error is CeleriacError {
  if (typeof error !== 'object' || error === null || !(celeriacErrorBrand in error)) return false;
  return code === undefined || (error as CeleriacError).code === code;
}

/**
 * Turns anything thrown into a {@link SerializedError}. Unknown errors become `CELERIAC_HANDLER_ERROR`, keeping their
 * message, because a handler may throw anything.
 */
export function serializeError(error: unknown): SerializedError {
  if (isCeleriacError(error)) return error.toJSON();
  const message = error instanceof Error ? error.message : describeThrown(error);
  const name = error instanceof Error ? error.name : error === null ? 'null' : typeof error;
  return { code: ErrorCode.HandlerError, message, retryable: true, details: { name } };
}

/** A readable message for a thrown non-Error: its `message` property if it has one, else its JSON or text. */
function describeThrown(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const { message } = value as { message?: unknown };
    if (typeof message === 'string') return message;
    try {
      return JSON.stringify(value);
    } catch {
      // circular or otherwise unserialisable: fall back to String()
    }
  }
  return String(value);
}

/** Rebuilds a {@link CeleriacError} from its wire form, e.g. to rethrow a job's failure in the SDK. */
export function deserializeError(serialized: SerializedError): CeleriacError {
  const code = isErrorCode(serialized.code) ? serialized.code : ErrorCode.Internal;
  return new CeleriacError(code, serialized.message, { details: serialized.details, retryable: serialized.retryable });
}
