/**
 * Amounts and times as people read them. Amounts: base units in the asset's decimals, with its symbol, every decimal
 * kept (exact, no rounding) and no trailing zeros: 1000000000000000000000000n wei → "1,000,000 ETH",
 * 7750000000000000000n → "7.75 ETH". Pure bigint arithmetic, no floating point.
 */

/** What formatting needs of an asset (an `AssetInfo` has it). */
export interface AssetUnit {
  symbol: string;
  decimals: number;
}

/** `amount` base units as "1,000,000 ETH", "-59,643.8 USDC"; `separators: false` gives "1000000 ETH". */
export function formatHumanAmount(amount: bigint, asset: AssetUnit, options: { separators?: boolean } = {}): string {
  const sign = amount < 0n ? "-" : "";
  const digits = (amount < 0n ? -amount : amount).toString().padStart(asset.decimals + 1, "0");
  const whole = digits.slice(0, digits.length - asset.decimals);
  const fraction = digits.slice(digits.length - asset.decimals).replace(/0+$/, "");
  const grouped = options.separators === false ? whole : whole.replace(/\B(?=(\d{3})+$)/g, ",");
  return `${sign}${grouped}${fraction === "" ? "" : `.${fraction}`} ${asset.symbol}`;
}

/** Unix seconds as "2023-11-15T22:13:20Z" (UTC); beyond what a date holds, "N (unix time)". */
export function formatTime(unixSeconds: bigint): string {
  const ms = Number(unixSeconds) * 1000;
  return Number.isFinite(ms) && ms < 8.64e15 ? new Date(ms).toISOString().replace(".000Z", "Z") : `${unixSeconds} (unix time)`;
}
