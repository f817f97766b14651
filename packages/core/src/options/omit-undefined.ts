/** `T` with every `undefined`-able property made optional and `undefined` removed from its type. */
export type OmitUndefined<T> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K];
} & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/**
 * Drops properties whose value is `undefined`. Under `exactOptionalPropertyTypes` an optional property may be
 * absent but not `undefined`, so resolved options pass through this before they are handed on.
 */
export function omitUndefined<T extends object>(value: T): OmitUndefined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as OmitUndefined<T>;
}
