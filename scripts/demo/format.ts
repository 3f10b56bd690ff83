/**
 * How the demo's report shows money to a business reader. Amounts stay exact `bigint` base units
 * everywhere else; they are rounded here, for display only, to a fixed number of decimals per asset.
 */

export type Asset = "USDC" | "ETH";

/** Base-unit decimals of each asset, and the decimals the report shows. */
export const ASSET_DECIMALS: Record<Asset, { base: number; shown: number }> = {
  USDC: { base: 6, shown: 2 },
  ETH: { base: 18, shown: 6 },
};

/**
 * `value` (base units with `base` decimals) in units of 10^-shown, rounded half away from zero,
 * as a bookkeeper rounds (`1.005 → 1.01`, `-1.005 → -1.01`).
 */
export function roundTo(value: bigint, base: number, shown: number): bigint {
  if (!Number.isInteger(base) || !Number.isInteger(shown) || base < 0 || shown < 0) throw new RangeError(`decimals must be whole numbers of at least 0, not ${base} and ${shown}`);
  if (shown >= base) return value * 10n ** BigInt(shown - base);
  const step = 10n ** BigInt(base - shown);
  const magnitude = value < 0n ? -value : value;
  const rounded = (magnitude + step / 2n) / step;
  return value < 0n ? -rounded : rounded;
}

/** `scaled` (units of 10^-decimals) with thousands separators and exactly `decimals` decimals: `-5964380n, 2 → "-59,643.80"`. */
export function formatFixed(scaled: bigint, decimals: number): string {
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = decimals > 0 ? `.${digits.slice(digits.length - decimals)}` : "";
  // A value that rounds to zero is shown without a sign.
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** A base-unit amount as the report shows it: `19716306666666666488n, "ETH" → "19.716307 ETH"`. */
export function formatAmount(value: bigint, asset: Asset): string {
  const { base, shown } = ASSET_DECIMALS[asset];
  return `${formatFixed(roundTo(value, base, shown), shown)} ${asset}`;
}

/**
 * Rows and their total rounded so that the rounded rows add up to the rounded total (largest
 * remainder: every row is its exact value rounded down or up to the shown decimals, and the rows
 * whose dropped parts are largest are the ones rounded up). Values in base units; results in
 * units of 10^-shown.
 */
export function roundToTotal(values: bigint[], base: number, shown: number): { rows: bigint[]; total: bigint } {
  const total = roundTo(
    values.reduce((sum, v) => sum + v, 0n),
    base,
    shown,
  );
  if (shown >= base) return { rows: values.map((v) => roundTo(v, base, shown)), total };
  const step = 10n ** BigInt(base - shown);
  const floor = (v: bigint) => (v >= 0n || v % step === 0n ? v / step : v / step - 1n);
  const rows = values.map(floor);
  let missing = total - rows.reduce((sum, v) => sum + v, 0n);
  const byRemainder = values.map((v, i) => ({ i, remainder: v - floor(v) * step })).sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (const { i } of byRemainder) {
    if (missing <= 0n) break;
    rows[i] += 1n;
    missing -= 1n;
  }
  return { rows, total };
}

/** Dollars given in cents: `123456n → "$1,234.56"`. */
export function formatUsdCents(cents: bigint): string {
  return cents < 0n ? `-$${formatFixed(-cents, 2)}` : `$${formatFixed(cents, 2)}`;
}

/** A count with thousands separators. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString("en-US");
}

/** Rows of cells as aligned columns: each column as wide as its widest cell, left- or right-aligned. */
export function columns(rows: string[][], align: ("left" | "right")[], gap = "   "): string[] {
  const widths = align.map((_, c) => Math.max(0, ...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    align
      .map((a, c) => (a === "right" ? (r[c] ?? "").padStart(widths[c]) : (r[c] ?? "").padEnd(widths[c])))
      .join(gap)
      .trimEnd(),
  );
}
