import { AbiCoder, keccak256, type Signer } from "ethers";
import type { Adjudicator } from "../../typechain-types";
import { PARAMS_ABI_TYPE, STATE_TYPES, sluiceDomain, stateValue } from "../../src/typedData";
import type { Address, Hex, Params, State } from "../../src/types";
import { ZERO_HASH } from "../../src/types";

const coder = AbiCoder.defaultAbiCoder();

export function channelIdOf(params: Params): Hex {
  return keccak256(coder.encode([PARAMS_ABI_TYPE], [params])) as Hex;
}

export function openingState(channelId: Hex): State {
  return { channelId, version: 0n, transferred: [0n, 0n], paymentsRoot: ZERO_HASH, isFinal: false };
}

export async function signState(adjudicator: Adjudicator, signer: Signer, state: State): Promise<Hex> {
  const { chainId } = await signer.provider!.getNetwork();
  const domain = sluiceDomain(chainId, (await adjudicator.getAddress()) as Address);
  return (await signer.signTypedData(domain, STATE_TYPES, stateValue(state))) as Hex;
}

export async function signBoth(adjudicator: Adjudicator, signers: readonly [Signer, Signer], state: State): Promise<[Hex, Hex]> {
  return [await signState(adjudicator, signers[0], state), await signState(adjudicator, signers[1], state)];
}
