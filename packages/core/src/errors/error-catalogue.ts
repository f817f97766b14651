/**
 * Every error code celeriac can produce, as an `as const` object so code can say `ErrorCode.JobNotFound`
 * and the string stays greppable in logs.
 */
export const ErrorCode = {
  InvalidOptions: 'CELERIAC_INVALID_OPTIONS',
  InvalidRequest: 'CELERIAC_INVALID_REQUEST',
  UnsupportedMediaType: 'CELERIAC_UNSUPPORTED_MEDIA_TYPE',
  RouteNotFound: 'CELERIAC_ROUTE_NOT_FOUND',
  Unauthenticated: 'CELERIAC_UNAUTHENTICATED',
  Forbidden: 'CELERIAC_FORBIDDEN',
  RateLimited: 'CELERIAC_RATE_LIMITED',
  InvalidInput: 'CELERIAC_INVALID_INPUT',
  InvalidOutput: 'CELERIAC_INVALID_OUTPUT',
  PayloadTooLarge: 'CELERIAC_PAYLOAD_TOO_LARGE',
  TaskNotFound: 'CELERIAC_TASK_NOT_FOUND',
  JobNotFound: 'CELERIAC_JOB_NOT_FOUND',
  JobDataCorrupt: 'CELERIAC_JOB_DATA_CORRUPT',
  JobFailed: 'CELERIAC_JOB_FAILED',
  JobCancelled: 'CELERIAC_JOB_CANCELLED',
  JobExpired: 'CELERIAC_JOB_EXPIRED',
  ChildFailed: 'CELERIAC_CHILD_FAILED',
  ChildrenDeadline: 'CELERIAC_CHILDREN_DEADLINE',
  WorkflowNotFound: 'CELERIAC_WORKFLOW_NOT_FOUND',
  ScheduleNotFound: 'CELERIAC_SCHEDULE_NOT_FOUND',
  QueueNotFound: 'CELERIAC_QUEUE_NOT_FOUND',
  JobNotRetryable: 'CELERIAC_JOB_NOT_RETRYABLE',
  ResultTimeout: 'CELERIAC_RESULT_TIMEOUT',
  TaskFailed: 'CELERIAC_TASK_FAILED',
  HandlerError: 'CELERIAC_HANDLER_ERROR',
  TimeLimitExceeded: 'CELERIAC_TIME_LIMIT_EXCEEDED',
  SandboxCrashed: 'CELERIAC_SANDBOX_CRASHED',
  WorkerLost: 'CELERIAC_WORKER_LOST',
  BrokerUnavailable: 'CELERIAC_BROKER_UNAVAILABLE',
  BrokerFull: 'CELERIAC_BROKER_FULL',
  BrokerMisconfigured: 'CELERIAC_BROKER_MISCONFIGURED',
  GpuUnavailable: 'CELERIAC_GPU_UNAVAILABLE',
  GpuExecutorCrashed: 'CELERIAC_GPU_EXECUTOR_CRASHED',
  GpuDeviceLost: 'CELERIAC_GPU_DEVICE_LOST',
  KernelCompileFailed: 'CELERIAC_KERNEL_COMPILE_FAILED',
  KernelInvalidArguments: 'CELERIAC_KERNEL_INVALID_ARGUMENTS',
  Internal: 'CELERIAC_INTERNAL',
} as const;

/** One of the codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What celeriac knows about an error code: how it maps to HTTP, and whether trying again can help. */
export interface ErrorSpec {
  /** The HTTP status the API answers with when this error reaches a client. */
  readonly httpStatus: number;
  /** Whether running the same job again may succeed (a worker uses this as the default retry decision). */
  readonly retryable: boolean;
}

/**
 * The error catalogue: code → {@link ErrorSpec}. `satisfies Record<ErrorCode, ErrorSpec>` makes the compiler reject
 * a code without an entry, and `docs/errors.md` is checked against this object by a test.
 */
export const errorCatalogue = {
  CELERIAC_INVALID_OPTIONS: { httpStatus: 500, retryable: false },
  CELERIAC_INVALID_REQUEST: { httpStatus: 400, retryable: false },
  CELERIAC_UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, retryable: false },
  CELERIAC_ROUTE_NOT_FOUND: { httpStatus: 404, retryable: false },
  CELERIAC_UNAUTHENTICATED: { httpStatus: 401, retryable: false },
  CELERIAC_FORBIDDEN: { httpStatus: 403, retryable: false },
  CELERIAC_RATE_LIMITED: { httpStatus: 429, retryable: true },
  CELERIAC_INVALID_INPUT: { httpStatus: 400, retryable: false },
  CELERIAC_INVALID_OUTPUT: { httpStatus: 500, retryable: false },
  CELERIAC_PAYLOAD_TOO_LARGE: { httpStatus: 413, retryable: false },
  CELERIAC_TASK_NOT_FOUND: { httpStatus: 404, retryable: false },
  CELERIAC_JOB_NOT_FOUND: { httpStatus: 404, retryable: false },
  CELERIAC_JOB_DATA_CORRUPT: { httpStatus: 500, retryable: false },
  CELERIAC_JOB_FAILED: { httpStatus: 500, retryable: false },
  CELERIAC_JOB_CANCELLED: { httpStatus: 409, retryable: false },
  CELERIAC_JOB_EXPIRED: { httpStatus: 410, retryable: false },
  CELERIAC_CHILD_FAILED: { httpStatus: 500, retryable: false },
  CELERIAC_CHILDREN_DEADLINE: { httpStatus: 504, retryable: false },
  CELERIAC_WORKFLOW_NOT_FOUND: { httpStatus: 404, retryable: false },
  CELERIAC_SCHEDULE_NOT_FOUND: { httpStatus: 404, retryable: false },
  CELERIAC_QUEUE_NOT_FOUND: { httpStatus: 404, retryable: false },
  CELERIAC_JOB_NOT_RETRYABLE: { httpStatus: 409, retryable: false },
  CELERIAC_RESULT_TIMEOUT: { httpStatus: 504, retryable: true },
  CELERIAC_TASK_FAILED: { httpStatus: 500, retryable: true },
  CELERIAC_HANDLER_ERROR: { httpStatus: 500, retryable: true },
  CELERIAC_TIME_LIMIT_EXCEEDED: { httpStatus: 500, retryable: true },
  CELERIAC_SANDBOX_CRASHED: { httpStatus: 500, retryable: true },
  CELERIAC_WORKER_LOST: { httpStatus: 500, retryable: true },
  CELERIAC_BROKER_UNAVAILABLE: { httpStatus: 503, retryable: true },
  CELERIAC_BROKER_FULL: { httpStatus: 503, retryable: true },
  CELERIAC_BROKER_MISCONFIGURED: { httpStatus: 503, retryable: false },
  CELERIAC_GPU_UNAVAILABLE: { httpStatus: 503, retryable: false },
  CELERIAC_GPU_EXECUTOR_CRASHED: { httpStatus: 503, retryable: true },
  CELERIAC_GPU_DEVICE_LOST: { httpStatus: 503, retryable: true },
  CELERIAC_KERNEL_COMPILE_FAILED: { httpStatus: 422, retryable: false },
  CELERIAC_KERNEL_INVALID_ARGUMENTS: { httpStatus: 400, retryable: false },
  CELERIAC_INTERNAL: { httpStatus: 500, retryable: false },
} as const satisfies Record<ErrorCode, ErrorSpec>;

/** Narrows an arbitrary string to a known {@link ErrorCode}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalogue, value);
}
