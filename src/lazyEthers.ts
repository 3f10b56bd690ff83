/**
 * ethers, loaded on its first use: loading it takes longer than all the rest of the CLI, and
 * `sluice --help` or `sluice status` need none of it.
 */
type Ethers = typeof import("ethers");

let loaded: Ethers | undefined;

export function ethers(): Ethers {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous load on first use
  loaded ??= require("ethers") as Ethers;
  return loaded;
}
