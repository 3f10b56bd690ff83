/**
 * How many blocks an event needs before it counts. On a development chain (Hardhat, anvil, a geth
 * --dev) blocks are final as mined: 1, the latest block, is enough. Elsewhere 12: on Ethereum
 * since the merge a reorg deeper than a couple of blocks takes a failure of finality, and 12
 * blocks (about 2.5 minutes) is the depth exchanges and bridges have long waited for; it keeps a
 * deposit's wait short while a reorg of the last blocks can't take money the node relied on.
 * An operator who wants finality itself sets 64 or more.
 */
export const DEV_CHAIN_IDS: readonly bigint[] = [31337n, 1337n];
export const DEV_CONFIRMATIONS = 1;
export const DEFAULT_CONFIRMATIONS = 12;

export function defaultConfirmations(chainId: bigint): number {
  return DEV_CHAIN_IDS.includes(chainId) ? DEV_CONFIRMATIONS : DEFAULT_CONFIRMATIONS;
}

/** The highest block whose events count with `confirmations`, or "latest" when that is the head (1). */
export function confirmedTag(head: number, confirmations: number): number | "latest" {
  return confirmations <= 1 ? "latest" : Math.max(0, head - confirmations + 1);
}
