/** What the invoice tests share: development keys and a synchronous throw to look at. */
import { HDNodeWallet, Mnemonic } from "ethers";
import { DEV_MNEMONIC } from "../../src/chain";
import { KeySigner } from "../../src/crypto";
import type { Hex } from "../../src/types";

/** The private key of development account `index` (the Hardhat mnemonic). */
export function devKey(index: number): Hex {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

export function devSigner(index: number): KeySigner {
  return new KeySigner(devKey(index));
}

/** What `fn` throws; fails the test if it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
