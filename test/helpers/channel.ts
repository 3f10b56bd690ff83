import { AbiCoder, keccak256, type Signer } from "ethers";
import type { Adjudicator } from "../../typechain-types";
import { PARAMS_ABI_TYPE, STATE_TYPES, WITHDRAWAL_TYPES, sluiceDomain, stateValue, withdrawalValue } from "../../src/typedData";
import type { Address, Hex, Params, State, Withdrawal } from "../../src/types";
import { openingState } from "../../src/types";

export { openingState };

const coder = AbiCoder.defaultAbiCoder();

/** The channel id computed with ethers alone: an independent reference for src/ and the contract. */
export function channelIdOf(params: Params): Hex {
  return keccak256(coder.encode([PARAMS_ABI_TYPE], [params])) as Hex;
}

async function domainFor(adjudicator: Adjudicator, signer: Signer) {
  const { chainId } = await signer.provider!.getNetwork();
  return sluiceDomain(chainId, (await adjudicator.getAddress()) as Address);
}

export async function signState(adjudicator: Adjudicator, signer: Signer, state: State): Promise<Hex> {
  return (await signer.signTypedData(await domainFor(adjudicator, signer), STATE_TYPES, stateValue(state))) as Hex;
}

export async function signWithdrawal(adjudicator: Adjudicator, signer: Signer, w: Withdrawal): Promise<Hex> {
  return (await signer.signTypedData(await domainFor(adjudicator, signer), WITHDRAWAL_TYPES, withdrawalValue(w))) as Hex;
}

export async function signWithdrawalBoth(
  adjudicator: Adjudicator,
  signers: readonly [Signer, Signer],
  w: Withdrawal,
): Promise<[Hex, Hex]> {
  return [await signWithdrawal(adjudicator, signers[0], w), await signWithdrawal(adjudicator, signers[1], w)];
}

export async function signBoth(adjudicator: Adjudicator, signers: readonly [Signer, Signer], state: State): Promise<[Hex, Hex]> {
  return [await signState(adjudicator, signers[0], state), await signState(adjudicator, signers[1], state)];
}
