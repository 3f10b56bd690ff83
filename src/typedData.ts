import { keccak256, toUtf8Bytes, TypedDataEncoder, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Address, Hex, Lock, Params, Payment, State, Withdrawal } from "./types";

/** EIP-712 domain name and version of the adjudicator. */
export const DOMAIN_NAME = "Sluice";
export const DOMAIN_VERSION = "2";

/** The EIP-712 types of a state: the one definition the client and the tests share. */
export const STATE_TYPES: Record<string, TypedDataField[]> = {
  State: [
    { name: "channelId", type: "bytes32" },
    { name: "version", type: "uint64" },
    { name: "transferred", type: "uint256[2]" },
    { name: "locked", type: "uint256[2]" },
    { name: "locksRoot", type: "bytes32" },
    { name: "paymentsRoot", type: "bytes32" },
    { name: "isFinal", type: "bool" },
  ],
};

/** The EIP-712 types of a withdrawal. */
export const WITHDRAWAL_TYPES: Record<string, TypedDataField[]> = {
  Withdrawal: [
    { name: "channelId", type: "bytes32" },
    { name: "participant", type: "uint8" },
    { name: "total", type: "uint256" },
    { name: "expiry", type: "uint64" },
  ],
};

export const STATE_TYPE_STRING =
  "State(bytes32 channelId,uint64 version,uint256[2] transferred,uint256[2] locked,bytes32 locksRoot,bytes32 paymentsRoot,bool isFinal)";
export const WITHDRAWAL_TYPE_STRING = "Withdrawal(bytes32 channelId,uint8 participant,uint256 total,uint64 expiry)";

/** ABI tuple types of the contract's structs, for encoding ids and leaves off-chain. */
export const PARAMS_ABI_TYPE =
  "tuple(address[2] participants,address[2] payees,address asset,uint64 challengePeriod,uint64 nonce)";
export const PAYMENT_ABI_TYPE = "tuple(bytes32 channelId,uint64 seq,uint8 payer,uint256 amount,bytes32 ref)";
export const LOCK_ABI_TYPE = "tuple(bytes32 channelId,uint8 sender,uint256 amount,bytes32 hashlock,uint64 expiry,bytes32 ref)";

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
    locked: [...state.locked],
    locksRoot: state.locksRoot,
    paymentsRoot: state.paymentsRoot,
    isFinal: state.isFinal,
  };
}

/** A withdrawal in the shape ethers' typed-data encoder and the contract's ABI take. */
export function withdrawalValue(w: Withdrawal): Record<string, unknown> {
  return { channelId: w.channelId, participant: w.participant, total: w.total, expiry: w.expiry };
}

/** keccak256 of `STATE_TYPE_STRING`: the EIP-712 type hash of `State` (`StateHash.STATE_TYPEHASH`). */
export const STATE_TYPEHASH: Hex = keccak256(toUtf8Bytes(STATE_TYPE_STRING)) as Hex;
/** keccak256 of `WITHDRAWAL_TYPE_STRING` (`WithdrawalHash.WITHDRAWAL_TYPEHASH`). */
export const WITHDRAWAL_TYPEHASH: Hex = keccak256(toUtf8Bytes(WITHDRAWAL_TYPE_STRING)) as Hex;

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

/** The digest both participants sign for a withdrawal, through ethers' typed-data encoder. */
export function withdrawalTypedDataDigest(domain: SluiceDomain, w: Withdrawal): Hex {
  return TypedDataEncoder.hash(domain, WITHDRAWAL_TYPES, withdrawalValue(w)) as Hex;
}

/** A payment in the shape ethers' ABI coder takes for `PAYMENT_ABI_TYPE`. */
export function paymentValue(payment: Payment): Record<string, unknown> {
  return { ...payment };
}

/** A lock in the shape ethers' ABI coder takes for `LOCK_ABI_TYPE`. */
export function lockValue(lock: Lock): Record<string, unknown> {
  return { ...lock };
}

/** Params in the shape ethers' ABI coder and the contract take for `PARAMS_ABI_TYPE`. */
export function paramsValue(params: Params): Record<string, unknown> {
  return { ...params, participants: [...params.participants], payees: [...params.payees] };
}
