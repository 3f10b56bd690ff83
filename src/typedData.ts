import { keccak256, toUtf8Bytes, TypedDataEncoder, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Address, Hex, Params, Payment, State } from "./types";

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

/** keccak256 of `STATE_TYPE_STRING`: the EIP-712 type hash of `State` (`StateHash.STATE_TYPEHASH`). */
export const STATE_TYPEHASH: Hex = keccak256(toUtf8Bytes(STATE_TYPE_STRING)) as Hex;

/** The EIP-712 domain separator of an adjudicator (`_domainSeparatorV4()`). */
export function domainSeparator(domain: SluiceDomain): Hex {
  return TypedDataEncoder.hashDomain(domain) as Hex;
}

/**
 * The digest a participant signs for `state`, through ethers' generic typed-data encoder. This is
 * the slow reference path; `StateHasher` (src/crypto) computes the same digest about 100 times faster.
 */
export function typedDataDigest(domain: SluiceDomain, state: State): Hex {
  return TypedDataEncoder.hash(domain, STATE_TYPES, stateValue(state)) as Hex;
}

/** A payment in the shape ethers' ABI coder takes for `PAYMENT_ABI_TYPE`. */
export function paymentValue(payment: Payment): Record<string, unknown> {
  return { ...payment };
}

/** Params in the shape ethers' ABI coder and the contract take for `PARAMS_ABI_TYPE`. */
export function paramsValue(params: Params): Record<string, unknown> {
  return { ...params, participants: [...params.participants] };
}
