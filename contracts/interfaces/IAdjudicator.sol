// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Params, State, Payment, Lock, Withdrawal} from "./SluiceTypes.sol";

/// @title Sluice adjudicator (protocol v2)
/// @notice Holds the deposits of two-party payment channels and pays them out, either at once on
/// a final state signed by both participants, or after a challenge period in which a newer signed
/// state replaces an older one. Pending hashlocked transfers (locks) are held back at settlement
/// and resolved one by one against the secret registry. Participants may withdraw while the
/// channel stays open, with a withdrawal signed by both. No owner, no admin, no upgrade path.
/// @dev Signatures are EIP-712 typed data, domain {name: "Sluice", version: "2", chainId,
/// verifyingContract} (ERC-5267 `eip712Domain()`), primary types
/// `State(bytes32 channelId,uint64 version,uint256[2] transferred,uint256[2] locked,bytes32 locksRoot,bytes32 paymentsRoot,bool isFinal)`
/// and `Withdrawal(bytes32 channelId,uint8 participant,uint256 total,uint64 expiry)`.
/// `sigs[i]` is `params.participants[i]`'s signature: 65 bytes (r, s, v), low s, from an ECDSA
/// key; contract signers (ERC-1271) are not accepted, since a wallet can revoke a signature it once
/// gave. Payouts go to `params.payees[i]`.
///
/// Balance of participant i: `deposit[i] - withdrawn[i] + transferred[1-i] - transferred[i] - locked[i]`.
/// At settlement each side is paid its balance and `locked[i]` is held back for i's locks. For a
/// state whose numbers don't fit, participant 0's balance is clamped to what the channel holds,
/// then the locks are held back from what is left, then participant 1 gets the rest: payouts and
/// held-back amounts always add up to `Σdeposit - Σwithdrawn`.
///
/// Merkle leaves (payments and locks): `keccak256(bytes.concat(keccak256(abi.encode(x))))`, trees
/// of sorted pairs (OpenZeppelin `MerkleProof`).
interface IAdjudicator {
    // ---------------------------------------------------------------- errors

    /// @notice The participants are the zero address or the same address.
    error ChannelParticipantsInvalid(address participant0, address participant1);
    /// @notice A payee is the zero address.
    error ChannelPayeesInvalid(address payee0, address payee1);
    /// @notice The challenge period is zero or longer than `MAX_CHALLENGE_PERIOD`.
    error ChannelChallengePeriodInvalid(uint64 challengePeriod);
    /// @notice A participant index (deposit, withdrawal, lock sender) other than 0 or 1.
    error ParticipantIndexInvalid(uint8 participant);
    /// @notice The channel has no deposit yet, so there is nothing to close, dispute or withdraw.
    error ChannelNotOpen(bytes32 channelId);
    /// @notice The channel has concluded (closed or settled); only its locks and receipts remain.
    error ChannelConcluded(bytes32 channelId);
    /// @notice `resolveLock` on a channel that has not concluded.
    error ChannelNotConcluded(bytes32 channelId);
    /// @notice `settle` on a channel with no running challenge.
    error ChannelNotChallenged(bytes32 channelId);
    /// @notice `partialWithdraw` while a challenge runs.
    error ChannelChallenged(bytes32 channelId, uint64 deadline);
    /// @notice A deposit of zero.
    error DepositZero();
    /// @notice For ETH `msg.value` must equal `amount`; for a token no ETH may be attached.
    error DepositValueMismatch(uint256 value, uint256 expected);
    /// @notice The token transfer left the adjudicator's balance no higher than before.
    error DepositNotReceived(address token, uint256 amount);
    /// @notice The participant's deposit would exceed `MAX_DEPOSIT`.
    error DepositOverflow(uint256 deposit, uint256 amount);
    /// @notice The state names another channel than the params.
    error StateChannelMismatch(bytes32 channelId, bytes32 stateChannelId);
    /// @notice `close` with a state whose `isFinal` is false.
    error StateNotFinal(uint64 version);
    /// @notice A final state with locks (`locked` or `locksRoot` not zero).
    error StateFinalWithLocks(uint64 version);
    /// @notice The state is not newer than the registered one (`close` accepts an equal version).
    error StateStale(uint64 version, uint64 registeredVersion);
    /// @notice The state handed to `settle` or `resolveLock` is not the one the channel registered
    /// or concluded with.
    error StateUnknown(bytes32 channelId);
    /// @notice `sigs[participant]` is not that participant's signature.
    error SignatureInvalid(uint8 participant);
    /// @notice An unsigned opening-state challenge from someone who is neither a participant nor a payee.
    error OpeningChallengeUnauthorized(address caller);
    /// @notice A refutation at or after the deadline of the running challenge.
    error ChallengeExpired(uint64 deadline);
    /// @notice `settle` before the deadline of the running challenge.
    error ChallengePending(uint64 deadline);
    /// @notice The withdrawal names another channel than the params.
    error WithdrawalChannelMismatch(bytes32 channelId, bytes32 withdrawalChannelId);
    /// @notice The withdrawal's expiry has passed.
    error WithdrawalExpired(uint64 expiry);
    /// @notice The withdrawal would pay more than the channel holds.
    error WithdrawalExceedsHoldings(uint256 amount, uint256 holdings);
    /// @notice The secret was registered before, at `revealedAt`.
    error SecretAlreadyRevealed(bytes32 hashlock, uint64 revealedAt);
    /// @notice The lock names another channel than the params.
    error LockChannelMismatch(bytes32 channelId, bytes32 lockChannelId);
    /// @notice The lock is not a leaf of the state's `locksRoot` by the proof.
    error LockProofInvalid(bytes32 leaf);
    /// @notice The lock was resolved before.
    error LockAlreadyResolved(bytes32 leaf);
    /// @notice Nothing is held back any more for the lock's sender: every amount held back for its
    /// locks has been paid, this lock's included if it was resolved before.
    error LockNothingHeld(bytes32 leaf);
    /// @notice The lock's secret was not revealed and its expiry has not passed: it can still go either way.
    error LockPending(uint64 expiry);
    /// @notice Too little gas left to push a payout with its full gas allowance: 30,000 gas for an
    /// ETH payee, 80,000 for a token's `transfer`, each plus 1/64 of it (EIP-150) plus the call's own
    /// cost (37,000 with ETH, 3,000 for a token), so that no caller can force the credit path.
    error PayoutGasInsufficient(uint256 gasLeft, uint256 gasNeeded);
    /// @notice `withdraw` with no credit for this owner and asset.
    error WithdrawNothing(address owner, address asset);
    /// @notice `withdrawTo` the zero address or the adjudicator itself, where the credit would be lost.
    error WithdrawRecipientInvalid(address to);
    /// @notice The withdrawal of a credit failed; the credit is kept.
    error WithdrawFailed(address owner, address asset, address to, uint256 amount);

    // ---------------------------------------------------------------- events

    /// @notice `amount` arrived for `participant`, whose cumulative deposit is now `deposit`.
    event Deposited(bytes32 indexed channelId, uint8 participant, uint256 amount, uint256 deposit);
    /// @notice `amount` was withdrawn for `participant` (paid to its payee or credited), whose
    /// cumulative withdrawal is now `total`.
    event PartiallyWithdrawn(bytes32 indexed channelId, uint8 participant, uint256 amount, uint256 total);
    /// @notice A state was registered (first challenge) or replaced by a newer one (refutation).
    /// It carries the whole registered state, so a watcher needs no other source.
    event Challenged(bytes32 indexed channelId, State state, uint64 deadline);
    /// @notice The channel concluded on a final state signed by both; `payouts` were paid or credited.
    event Closed(bytes32 indexed channelId, uint64 version, uint256[2] payouts);
    /// @notice The channel concluded on its registered state after the deadline; `payouts` were
    /// paid or credited and `heldBack[i]` stays for participant i's locks.
    event Settled(bytes32 indexed channelId, uint64 version, uint256[2] payouts, uint256[2] heldBack);
    /// @notice `secret` was revealed on chain; its `hashlock` is sha256(secret).
    event SecretRevealed(bytes32 indexed hashlock, bytes32 secret);
    /// @notice The lock with leaf `leaf` was resolved: `amount` went to participant `paidTo`'s payee
    /// (the receiver if the secret was revealed in time, else the sender).
    event LockResolved(bytes32 indexed channelId, bytes32 indexed hashlock, bytes32 leaf, uint8 paidTo, uint256 amount);
    /// @notice A payout that could not be pushed was credited to `owner` for a later withdrawal.
    event Credited(address indexed owner, address indexed asset, uint256 amount);
    /// @notice `owner` withdrew its credited `amount` to `to`.
    event Withdrawn(address indexed owner, address indexed asset, address to, uint256 amount);

    // ---------------------------------------------------------------- views

    /// @notice The id of the channel with these params: `keccak256(abi.encode(params))`.
    function channelId(Params calldata params) external pure returns (bytes32);

    /// @notice The EIP-712 digest that both participants sign for `state`.
    function hashState(State calldata state) external view returns (bytes32);

    /// @notice The EIP-712 digest that both participants sign for `w`.
    function hashWithdrawal(Withdrawal calldata w) external view returns (bytes32);

    /// @notice When sha256(secret) = `hashlock` was first registered (block timestamp); 0: never.
    function secretRevealedAt(bytes32 hashlock) external view returns (uint64);

    /// @notice Payouts of `owner` in `asset` that could not be pushed and wait for `withdraw`.
    function credits(address owner, address asset) external view returns (uint256);

    /// @notice The status of a channel.
    /// @return mode 0 none, 1 open, 2 challenged (until settled or closed), 3 concluded.
    /// @return version The registered version in mode 2, else 0 (`Closed` and `Settled` carry the
    /// concluded version).
    /// @return deadline The challenge deadline in mode 2, else 0.
    /// @return deposits The participants' cumulative deposits in modes 1 and 2; zero in mode 3.
    /// @return withdrawn The participants' cumulative withdrawals in modes 1 and 2; zero in mode 3.
    function channel(bytes32 channelId)
        external
        view
        returns (uint8 mode, uint64 version, uint64 deadline, uint256[2] memory deposits, uint256[2] memory withdrawn);

    /// @notice Held back at settlement for each participant's locks and not yet paid out by `resolveLock`.
    function heldBack(bytes32 channelId) external view returns (uint256[2] memory);

    /// @notice True iff the lock with this leaf was resolved and more stayed held back for its sender.
    /// (A lock that used up its sender's held-back amount needs no record: nothing is left to pay twice.)
    function lockResolved(bytes32 leaf) external view returns (bool);

    /// @notice True iff `state` is the state the channel concluded with (or the one registered in
    /// its running challenge), `payment.channelId == channelId`, and `payment` is a leaf of
    /// `state.paymentsRoot` by `proof`.
    function verifyPayment(bytes32 channelId, State calldata state, Payment calldata payment, bytes32[] calldata proof)
        external
        view
        returns (bool);

    // ---------------------------------------------------------------- deposits and withdrawals

    /// @notice Adds `amount` of the channel's asset to participant `participant`'s deposit.
    /// Anyone may deposit for either participant until the channel concludes; the first deposit
    /// opens the channel. ETH: `msg.value` must equal `amount`. ERC-20: pulled with
    /// `transferFrom` from the caller (approve first), no ETH attached; what is credited is what
    /// actually arrived, so a fee-on-transfer token credits less than `amount`.
    /// @dev Reverts with `ChannelParticipantsInvalid`, `ChannelPayeesInvalid` or
    /// `ChannelChallengePeriodInvalid` for params no channel may have, so such a channel never holds funds.
    function deposit(Params calldata params, uint8 participant, uint256 amount) external payable;

    /// @notice Pays `w.total - withdrawn[w.participant]` to `payees[w.participant]` out of an open
    /// channel, on a withdrawal signed by both participants; a total not above what was withdrawn
    /// before pays nothing (so a replay is harmless). Valid while `block.timestamp <= w.expiry`,
    /// only while the channel is open and unchallenged, and only up to what the channel holds.
    /// Anyone may call it.
    function partialWithdraw(Params calldata params, Withdrawal calldata w, bytes[2] calldata sigs) external;

    // ---------------------------------------------------------------- closing and disputes

    /// @notice Concludes the channel at once on a final state (no locks) signed by both
    /// participants and pays both payees. Anyone may call it until the channel concludes, also
    /// during a challenge, when the state's version must be at least the registered one's.
    function close(Params calldata params, State calldata state, bytes[2] calldata sigs) external;

    /// @notice Registers a state signed by both participants and starts the challenge period,
    /// or, during the period (`block.timestamp < deadline`), replaces the registered state with one
    /// of a higher version; the deadline (registration time + challenge period) never moves.
    /// A participant or a payee may register the opening state (version 0, nothing transferred or
    /// locked, zero roots, not final) with both `sigs` empty. A final state must have no locks.
    function challenge(Params calldata params, State calldata state, bytes[2] calldata sigs) external;

    /// @notice From the deadline on (`block.timestamp >= deadline`), concludes the channel on the
    /// registered state, handed back as `state`, pays both payees and holds back the locked
    /// amounts for `resolveLock`. Anyone may call it.
    /// @dev The channel keeps the state's full EIP-712 struct hash while the challenge runs.
    function settle(Params calldata params, State calldata state) external;

    // ---------------------------------------------------------------- locks

    /// @notice Records that sha256(abi.encodePacked(secret)) was revealed now. Anyone may call it, once per secret.
    function registerSecret(bytes32 secret) external;

    /// @notice Pays out one lock of a settled channel: to `payees[1 - lock.sender]` if its secret
    /// was registered at or before `lock.expiry`, else, once `block.timestamp > lock.expiry`, back
    /// to `payees[lock.sender]`. `state` is the state the channel concluded with and `proof` shows
    /// `lock` is a leaf of its `locksRoot`. Pays at most what is still held back for the sender.
    /// Each lock resolves once. Anyone may call it.
    function resolveLock(Params calldata params, State calldata state, Lock calldata lock, bytes32[] calldata proof)
        external;

    // ---------------------------------------------------------------- credits

    /// @notice Pays `msg.sender` its credited payouts in `asset` (address(0) for ETH).
    function withdraw(address asset) external;

    /// @notice Pays `msg.sender`'s credited payouts in `asset` to `to`, e.g. when the owner's own
    /// address is blocked by the token. `to` may not be the zero address or the adjudicator.
    function withdrawTo(address asset, address to) external;
}
