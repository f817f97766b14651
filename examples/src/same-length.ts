/**
 * A refinement for inputs with two arrays that must have the same length, reported on the second one:
 * `z.object({ x: f32Array(), y: f32Array() }).refine(...sameLength('x', 'y'))`.
 */
export function sameLength<First extends string, Second extends string>(
  first: First,
  second: Second,
): [
  check: (value: { readonly [K in First | Second]: ArrayLike<number> }) => boolean,
  params: { message: string; path: string[] },
] {
  return [
    (value) => value[first].length === value[second].length,
    { message: `${first} and ${second} must have the same length`, path: [second] },
  ];
}
