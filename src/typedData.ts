import type { TypedDataDomain, TypedDataField } from "ethers";
import type { Address, State } from "./types";

/** EIP-712 domain name and version of the adjudicator. */
export const DOMAIN_NAME = "Sluice";
export const DOMAIN_VERSION = "1";

/** The EIP-712 types of a state: the one definition the client and the tests share. */
export const STATE_TYPES: Record<string, TypedDataField[]> = {
  State: [
    { name: "channelId", type: "bytes32" },
    { name: "version", type: "uint64" },
    { name: "transferred", type: "uint256[2]" },
    { name: "paymentsRoot", type: "bytes32" },
    { name: "isFinal", type: "bool" },
  ],
};

export const STATE_TYPE_STRING =
  "State(bytes32 channelId,uint64 version,uint256[2] transferred,bytes32 paymentsRoot,bool isFinal)";

/** ABI tuple types of the contract's structs, for encoding ids and leaves off-chain. */
export const PARAMS_ABI_TYPE = "tuple(address[2] participants,address asset,uint64 challengePeriod,uint64 nonce)";
export const PAYMENT_ABI_TYPE = "tuple(bytes32 channelId,uint64 seq,uint8 payer,uint256 amount,bytes32 ref)";

export interface SluiceDomain extends TypedDataDomain {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: Address;
}

export function sluiceDomain(chainId: bigint, verifyingContract: Address): SluiceDomain {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract };
}

/** A state in the shape ethers' typed-data encoder and the contract's ABI take. */
export function stateValue(state: State): Record<string, unknown> {
  return {
    channelId: state.channelId,
    version: state.version,
    transferred: [...state.transferred],
    paymentsRoot: state.paymentsRoot,
    isFinal: state.isFinal,
  };
}
