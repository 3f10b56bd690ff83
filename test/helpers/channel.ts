import { AbiCoder, keccak256, type Signer } from "ethers";
import type { Adjudicator } from "../../typechain-types";
import { PARAMS_ABI_TYPE, STATE_TYPES, sluiceDomain, stateValue } from "../../src/typedData";
import type { Address, Hex, Params, State } from "../../src/types";
import { openingState } from "../../src/types";

export { openingState };

const coder = AbiCoder.defaultAbiCoder();

/** The channel id computed with ethers alone: an independent reference for src/ and the contract. */
export function channelIdOf(params: Params): Hex {
  return keccak256(coder.encode([PARAMS_ABI_TYPE], [params])) as Hex;
}

export async function signState(adjudicator: Adjudicator, signer: Signer, state: State): Promise<Hex> {
  const { chainId } = await signer.provider!.getNetwork();
  const domain = sluiceDomain(chainId, (await adjudicator.getAddress()) as Address);
  return (await signer.signTypedData(domain, STATE_TYPES, stateValue(state))) as Hex;
}

export async function signBoth(adjudicator: Adjudicator, signers: readonly [Signer, Signer], state: State): Promise<[Hex, Hex]> {
  return [await signState(adjudicator, signers[0], state), await signState(adjudicator, signers[1], state)];
}
