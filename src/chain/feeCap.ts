/**
 * The fee cap of the node's transactions (`maxFeeGwei`, `--max-fee`), without the rest of the chain
 * code: the config schema reads the default from here.
 */

/** The cap when the operator sets none: well above a busy mainnet's fees, far below a runaway spike's. */
export const DEFAULT_MAX_FEE_GWEI = 200;

/** The cap in wei per gas of `maxFeeGwei` (whole or decimal gwei, to 1 wei). */
export function capOf(maxFeeGwei: number): bigint {
  return BigInt(Math.round(maxFeeGwei * 1e9));
}
