import { z } from 'zod';

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A span of time: milliseconds as a number, or a string with a unit (`'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'7d'`).
 */
export type Duration = number | `${number}${keyof typeof unitMs}`;

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Zod schema that accepts a {@link Duration} and outputs whole milliseconds. Use it inside option schemas so
 * every duration in celeriac is written the same way.
 */
export const durationMs = z
  .union([
    z.number().nonnegative().finite(),
    z.string().regex(durationPattern, 'expected a duration such as 500, "250ms", "30s", "5m", "2h" or "7d"'),
  ])
  .transform((value) => Math.round(typeof value === 'number' ? value : parseDurationString(value)));

function parseDurationString(value: string): number {
  const [, amount, unit] = durationPattern.exec(value) as unknown as [string, string, keyof typeof unitMs];
  return Number(amount) * unitMs[unit];
}
