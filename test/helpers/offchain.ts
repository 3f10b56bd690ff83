/** Two fixed signing keys and a channel between them, for tests of the off-chain code (no chain). */
import { KeySigner } from "../../src/crypto";
import { ETH, type Address, type Params } from "../../src/types";

export const CHAIN_ID = 31337n;
/** The address Hardhat gives the first contract deployed by its first account. */
export const ADJUDICATOR = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
export const KEYS = [new KeySigner(`0x${"a1".repeat(32)}`), new KeySigner(`0x${"b2".repeat(32)}`)] as const;

/** An ETH channel between `KEYS`, each its own payee. */
export function keysParams(nonce: bigint, challengePeriod = 60n): Params {
  return {
    participants: [KEYS[0].address, KEYS[1].address],
    payees: [KEYS[0].address, KEYS[1].address],
    asset: ETH,
    challengePeriod,
    nonce,
  };
}
