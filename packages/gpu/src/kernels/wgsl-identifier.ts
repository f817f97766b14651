import { CeleriacError, ErrorCode } from '@celeriac/core';

/** WGSL keywords (WGSL §15.2). */
const keywords = `alias break case const const_assert continue continuing default diagnostic discard else enable false fn
  for if let loop override requires return struct switch true var while`;

/** WGSL reserved words (WGSL §15.3): not keywords today, but refused as identifiers by the compiler. */
const reservedWords = `NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become
  cast catch class co_await co_return co_yield coherent column_major common compile compile_fragment concept
  const_cast consteval constexpr constinit crate debugger decltype delete demote demote_to_helper do dynamic_cast
  enum explicit export extends extern external fallthrough filter final finally friend from fxgroup get goto
  groupshared highp impl implements import inline instanceof interface layout lowp macro macro_rules match mediump
  meta mod module move mut mutable namespace new nil noexcept noinline nointerpolation non_coherent noncoherent
  noperspective null nullptr of operator package packoffset partition pass patch pixelfragment precise precision
  premerge priv protected pub public readonly ref regardless register reinterpret_cast require resource restrict
  self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target template this
  thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized use using
  varying virtual volatile wgsl where with writeonly yield`;

/**
 * Predeclared type names: legal to shadow in WGSL, but an argument named `f32` would break every generated
 * declaration that follows it, so they are refused with a clear message instead of a puzzling compiler error.
 */
const predeclaredTypes = `bool f16 f32 i32 u32 vec2 vec3 vec4 mat2x2 mat2x3 mat2x4 mat3x2 mat3x3 mat3x4 mat4x2 mat4x3
  mat4x4 array atomic ptr sampler sampler_comparison`;

/** Names the generated code itself binds: the global index, the element count and the uniform block. */
const generatedNames: readonly string[] = ['i', 'n', 'params'];

const refused = new Set([keywords, reservedWords, predeclaredTypes].flatMap((list) => list.split(/\s+/)));

/**
 * Plain ASCII identifiers that do not start with `_`: WGSL refuses `__` prefixes, and celeriac keeps the single `_`
 * prefix for the names its generated code declares (`_gid`, `_scratch`), so user names can never collide with them.
 */
const identifierPattern = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Checks that `name` can be used as a WGSL identifier in generated code: ASCII, not a keyword or reserved word,
 * not a predeclared type, and not one of the names the generator binds itself (`i`, `n`, `params`).
 *
 * @param what - what the name is, for the message (e.g. `argument name`)
 * @throws CeleriacError `CELERIAC_KERNEL_INVALID_ARGUMENTS`
 */
export function assertWgslIdentifier(name: string, what: string): void {
  const problem = identifierProblem(name);
  if (problem === undefined) return;
  throw new CeleriacError(
    ErrorCode.KernelInvalidArguments,
    `Invalid ${what} ${JSON.stringify(name)}: ${problem}. Rename it.`,
    { details: { what, name, problem } },
  );
}

function identifierProblem(name: string): string | undefined {
  if (!identifierPattern.test(name)) {
    return 'use ASCII letters, digits and "_", starting with a letter';
  }
  if (refused.has(name)) return 'it is a WGSL keyword, reserved word or type name';
  if (generatedNames.includes(name)) {
    return `the generated code binds ${generatedNames.map((n) => `"${n}"`).join(', ')} itself`;
  }
  return undefined;
}
