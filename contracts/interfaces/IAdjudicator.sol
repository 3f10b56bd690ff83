// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Params, State, Payment} from "./SluiceTypes.sol";

/// @title Sluice adjudicator
/// @notice Holds the deposits of two-party payment channels and pays them out, either at once
/// on a final state signed by both participants, or after a challenge period in which a newer
/// signed state replaces an older one. It has no owner, no admin and no upgrade path.
/// @dev States are EIP-712 typed data, domain {name: "Sluice", version: "1", chainId,
/// verifyingContract}, primary type
/// `State(bytes32 channelId,uint64 version,uint256[2] transferred,bytes32 paymentsRoot,bool isFinal)`.
/// `sigs[i]` is participant i's signature: 65 bytes (r, s, v) with a low s for a key, or any bytes
/// an ERC-1271 contract wallet accepts. Payout of participant i at settlement is
/// `deposit[i] + transferred[1-i] - transferred[i]`, clamped to [0, deposit[0] + deposit[1]].
interface IAdjudicator {
    // ---------------------------------------------------------------- errors

    /// @notice The participants are the zero address or the same address.
    error ChannelParticipantsInvalid(address participant0, address participant1);
    /// @notice The challenge period is zero or longer than `MAX_CHALLENGE_PERIOD`.
    error ChannelChallengePeriodInvalid(uint64 challengePeriod);
    /// @notice A participant index other than 0 or 1.
    error ParticipantIndexInvalid(uint8 participant);
    /// @notice The channel has no deposit yet, so there is nothing to close or dispute.
    error ChannelNotOpen(bytes32 channelId);
    /// @notice The channel has concluded (closed or settled); nothing can change it any more.
    error ChannelConcluded(bytes32 channelId);
    /// @notice `settle` on a channel with no registered challenge.
    error ChannelNotChallenged(bytes32 channelId);
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
    /// @notice The state is not newer than the registered one (`close` accepts an equal version).
    error StateStale(uint64 version, uint64 registeredVersion);
    /// @notice `sigs[participant]` is not that participant's signature of the state.
    error SignatureInvalid(uint8 participant);
    /// @notice An unsigned opening-state challenge from someone who is not a participant.
    error OpeningChallengeUnauthorized(address caller);
    /// @notice A refutation at or after the deadline of the running challenge.
    error ChallengeExpired(uint64 deadline);
    /// @notice `settle` before the deadline of the running challenge.
    error ChallengePending(uint64 deadline);
    /// @notice Too little gas left to push a payout with its full gas allowance.
    error PayoutGasInsufficient(uint256 gasLeft, uint256 gasNeeded);
    /// @notice `withdraw` with no credit for this owner and asset.
    error WithdrawNothing(address owner, address asset);
    /// @notice The withdrawal transfer failed; the credit is kept.
    error WithdrawFailed(address owner, address asset, address to, uint256 amount);

    // ---------------------------------------------------------------- events

    /// @notice `amount` arrived for `participant`, whose deposit is now `deposit`.
    event Deposited(bytes32 indexed channelId, uint8 participant, uint256 amount, uint256 deposit);
    /// @notice A state was registered (first challenge) or replaced by a newer one (refutation).
    /// It carries the whole registered state, so a watcher needs no other source.
    event Challenged(
        bytes32 indexed channelId,
        uint64 version,
        uint256[2] transferred,
        bytes32 paymentsRoot,
        bool isFinal,
        uint64 deadline
    );
    /// @notice The channel concluded on a final state signed by both; `payouts` were paid or credited.
    event Closed(bytes32 indexed channelId, uint64 version, uint256[2] payouts);
    /// @notice The channel concluded on its registered state after the deadline.
    event Settled(bytes32 indexed channelId, uint64 version, uint256[2] payouts);
    /// @notice A payout that could not be pushed was credited to `owner` for a later withdrawal.
    event Credited(address indexed owner, address indexed asset, uint256 amount);
    /// @notice `owner` withdrew its credited `amount` to `to`.
    event Withdrawn(address indexed owner, address indexed asset, address to, uint256 amount);

    // ---------------------------------------------------------------- functions

    /// @notice The id of the channel with these params: `keccak256(abi.encode(params))`.
    function channelId(Params calldata params) external pure returns (bytes32);

    /// @notice The EIP-712 digest that both participants sign for `state`.
    function hashState(State calldata state) external view returns (bytes32);

    /// @notice Adds `amount` of the channel's asset to participant `participant`'s deposit.
    /// Anyone may deposit for either participant until the channel concludes; the first deposit
    /// opens the channel. ETH: `msg.value` must equal `amount`. ERC-20: pulled with
    /// `transferFrom` from the caller (approve first), no ETH attached; what is credited is what
    /// actually arrived, so a fee-on-transfer token credits less than `amount`.
    /// @dev Reverts with `ChannelParticipantsInvalid` or `ChannelChallengePeriodInvalid` for
    /// params no channel may have, so such a channel can never hold funds.
    function deposit(Params calldata params, uint8 participant, uint256 amount) external payable;

    /// @notice Concludes the channel at once on a final state signed by both participants and
    /// pays both sides. Anyone may call it until the channel concludes, also during a challenge,
    /// when the state's version must be at least the registered one's.
    function close(Params calldata params, State calldata state, bytes[2] calldata sigs) external;

    /// @notice Registers a state signed by both participants and starts the challenge period,
    /// or, during the period, replaces the registered state with one of a higher version (the
    /// deadline does not move). A participant may register the opening state (version 0, nothing
    /// transferred, zero root, not final) with both `sigs` empty.
    function challenge(Params calldata params, State calldata state, bytes[2] calldata sigs) external;

    /// @notice Once the challenge deadline has passed, concludes the channel on the registered
    /// state and pays both sides. Anyone may call it.
    function settle(Params calldata params) external;

    /// @notice Pays `msg.sender` its credited payouts in `asset` (address(0) for ETH).
    function withdraw(address asset) external;

    /// @notice Pays `msg.sender`'s credited payouts in `asset` to `to`, e.g. when the owner's own
    /// address is blocked by the token.
    function withdrawTo(address asset, address to) external;

    /// @notice Payouts of `owner` in `asset` that could not be pushed and wait for `withdraw`.
    function credits(address owner, address asset) external view returns (uint256);

    /// @notice The status of a channel.
    /// @return mode 0 none, 1 open, 2 challenged (until settled or closed), 3 concluded.
    /// @return version The registered version in mode 2, the concluded version in mode 3, else 0.
    /// @return deadline The challenge deadline in mode 2, else 0.
    /// @return deposits The participants' deposits in modes 1 and 2; zero once paid out (mode 3).
    function channel(bytes32 channelId)
        external
        view
        returns (uint8 mode, uint64 version, uint64 deadline, uint256[2] memory deposits);

    /// @notice True iff `state` is the state the channel concluded with (or the one registered
    /// in its running challenge), `payment.channelId == channelId`, and `payment` is a leaf of
    /// `state.paymentsRoot` by `proof`. Leaf: keccak256(bytes.concat(keccak256(abi.encode(payment)))),
    /// sorted-pair tree.
    function verifyPayment(
        bytes32 channelId,
        State calldata state,
        Payment calldata payment,
        bytes32[] calldata proof
    ) external view returns (bool);
}
