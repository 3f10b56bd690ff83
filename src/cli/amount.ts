/**
 * Human amounts for the CLI: "100 USDC", "0.5 ETH", "100" (in the channel's asset), parsed exactly
 * into base units with the asset's decimals (string arithmetic through ethers' parseUnits, never
 * floating point), and printed back with their unit.
 */
import type { AssetInfo } from "../node/api/types";
import { checkBytes32, MAX_UINT256 } from "../schema/primitives";
import type { Hex } from "../types";
import { UsageError } from "./errors";
import { ethers } from "../lazyEthers";
import { formatHumanAmount } from "../humanText";

const NUMBER = /^(\d+)(?:\.(\d+))?$/;
const AMOUNT = /^\s*(\S*?)\s*([A-Za-z][A-Za-z0-9._-]*)?\s*$/;

/** An amount on the command line that can't be used (garbage, negative, wrong unit, too precise). */
export class AmountError extends UsageError {
  static override readonly code: string = "INVALID_AMOUNT";
  override readonly name: string = "AmountError";

  constructor(message: string) {
    super(message, "INVALID_AMOUNT");
  }
}

/**
 * `text` in base units of `asset`: a decimal number with at most `asset.decimals` decimals,
 * optionally followed by the asset's symbol (case-insensitive). Zero is refused unless `allowZero`.
 */
export function parseAmount(text: string, asset: AssetInfo, options: { allowZero?: boolean } = {}): bigint {
  const unitHelp = `an amount in ${asset.symbol}, such as "100 ${asset.symbol}" or "0.5"`;
  const trimmed = text.trim();
  if (trimmed === "") throw new AmountError(`missing amount: give ${unitHelp}`);
  if (trimmed.startsWith("-")) throw new AmountError(`amounts can't be negative: ${JSON.stringify(trimmed)}`);
  const match = /^0x/i.test(trimmed) ? null : AMOUNT.exec(trimmed);
  const number = match?.[1] ?? "";
  const unit = match?.[2];
  if (!NUMBER.test(number) || (unit !== undefined && /^e[0-9]+$/i.test(unit))) {
    throw new AmountError(`${JSON.stringify(trimmed)} is not an amount: give ${unitHelp} (digits and one decimal point, no signs, commas or exponents)`);
  }
  if (unit !== undefined && unit.toLowerCase() !== asset.symbol.toLowerCase()) {
    throw new AmountError(`the unit ${unit} doesn't match the asset: amounts here are in ${asset.symbol} (${asset.asset})`);
  }
  const fraction = NUMBER.exec(number)?.[2] ?? "";
  if (fraction.replace(/0+$/, "").length > asset.decimals) {
    throw new AmountError(
      asset.decimals === 0
        ? `${number} ${asset.symbol} has decimals, but ${asset.symbol} has none: give a whole number`
        : `${number} ${asset.symbol} has too many decimals: ${asset.symbol} has ${asset.decimals} decimals`,
    );
  }
  // parseUnits refuses more fraction digits than decimals, even trailing zeros: drop those first.
  const [whole, frac = ""] = number.split(".");
  const exact = frac.replace(/0+$/, "") === "" ? whole : `${whole}.${frac.replace(/0+$/, "")}`;
  const value = ethers().parseUnits(exact, asset.decimals);
  if (value > MAX_UINT256) throw new AmountError(`${number} ${asset.symbol} is more than any balance can hold (2^256 - 1 base units)`);
  if (value === 0n && options.allowZero !== true) throw new AmountError(`the amount must be more than zero ${asset.symbol}`);
  return value;
}

/** `amount` base units as "100 USDC", "0.5 ETH", "1000000 ETH": no separators, so that it can be typed back in. */
export function formatAmount(amount: bigint, asset: AssetInfo): string {
  return formatHumanAmount(amount, asset, { separators: false });
}

/**
 * A payment reference: a 0x-prefixed 32-byte hex string is used as is; any other text is hashed
 * (keccak256 of its UTF-8 bytes), so `--ref order-123` always gives the same reference. Other
 * 0x-prefixed hex (a likely mistake) is refused.
 */
export function parseRef(text: string): Hex {
  const bytes32 = checkBytes32(text);
  if (bytes32.ok) return bytes32.value;
  if (/^0x[0-9a-fA-F]*$/.test(text)) {
    throw new UsageError(`--ref ${text} is hex but not 32 bytes: give 64 hex digits after 0x, or a reference without the 0x prefix to have it hashed`);
  }
  if (text === "") throw new UsageError("--ref is empty: give an order reference");
  return ethers().keccak256(ethers().toUtf8Bytes(text)) as Hex;
}
