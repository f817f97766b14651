/** `value` with `digits` significant digits and thousands separators, e.g. `12.3`, `0.0456`, `1,234`. */
export function formatFigure(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return '—';
  const magnitude = value === 0 ? 0 : Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
