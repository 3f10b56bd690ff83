/**
 * Decoding of reverts without a chain: every error of the ABI has its class (a table, checked
 * against the ABI), and revert data is found in each error shape the three backends produce.
 */
import { expect } from "chai";
import { Interface, getAddress } from "ethers";
import { Adjudicator__factory, IERC20Errors__factory } from "../../typechain-types";
import {
  ADJUDICATOR_ERROR_CLASSES,
  AdjudicatorRevertError,
  ChallengeExpiredError,
  ChallengePendingError,
  ChannelChallengePeriodInvalidError,
  ChannelChallengedError,
  ChannelConcludedError,
  ChannelNotChallengedError,
  ChannelNotConcludedError,
  ChannelNotOpenError,
  ChannelParticipantsInvalidError,
  ChannelPayeesInvalidError,
  ContractRevertError,
  DepositNotReceivedError,
  DepositOverflowError,
  DepositValueMismatchError,
  DepositZeroError,
  InvalidShortStringError,
  LockAlreadyResolvedError,
  LockChannelMismatchError,
  LockNothingHeldError,
  LockPendingError,
  LockProofInvalidError,
  OpeningChallengeUnauthorizedError,
  ParticipantIndexInvalidError,
  PayoutGasInsufficientError,
  ReentrancyGuardReentrantCallError,
  SafeERC20FailedOperationError,
  SecretAlreadyRevealedError,
  SignatureInvalidError,
  StateChannelMismatchError,
  StateFinalWithLocksError,
  StateNotFinalError,
  StateStaleError,
  StateUnknownError,
  StringTooLongError,
  WithdrawFailedError,
  WithdrawNothingError,
  WithdrawRecipientInvalidError,
  WithdrawalChannelMismatchError,
  WithdrawalExceedsHoldingsError,
  WithdrawalExpiredError,
  decodeRevert,
  decodeRevertData,
  type AdjudicatorErrorName,
} from "../../src/chain";
import { SluiceError } from "../../src/errors";
import { ETH, type Address, type Hex } from "../../src/types";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ErrorClass = new (...args: any[]) => AdjudicatorRevertError;

const IFACE = Adjudicator__factory.createInterface();
/** An error shaped as ethers makes them (`code`, plus the given fields). */
function makeError(message: string, code: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code, shortMessage: message, ...fields });
}

const stale = IFACE.encodeErrorResult("StateStale", [3n, 9n]) as Hex;

// Decoded addresses come checksummed.
const A = getAddress(`0x${"0a".repeat(20)}`) as Address;
const B = getAddress(`0x${"0b".repeat(20)}`) as Address;
const C = getAddress(`0x${"0c".repeat(20)}`) as Address;
const ID = `0x${"ab".repeat(32)}`;
const OTHER = `0x${"cd".repeat(32)}`;

/**
 * Every custom error of the adjudicator's ABI: the values to encode (in ABI order), the class the
 * decoder must produce, and the named arguments it must carry. Distinct values per argument, so a
 * swapped pair shows. The test below fails when the ABI has an error this table lacks.
 */
const ERROR_TABLE: { name: string; values: unknown[]; Class: ErrorClass; args: Record<string, unknown> }[] = [
  { name: "ChallengeExpired", values: [11n], Class: ChallengeExpiredError, args: { deadline: 11n } },
  { name: "ChallengePending", values: [12n], Class: ChallengePendingError, args: { deadline: 12n } },
  { name: "ChannelChallengePeriodInvalid", values: [0n], Class: ChannelChallengePeriodInvalidError, args: { challengePeriod: 0n } },
  { name: "ChannelChallenged", values: [ID, 13n], Class: ChannelChallengedError, args: { channelId: ID, deadline: 13n } },
  { name: "ChannelConcluded", values: [ID], Class: ChannelConcludedError, args: { channelId: ID } },
  { name: "ChannelNotChallenged", values: [ID], Class: ChannelNotChallengedError, args: { channelId: ID } },
  { name: "ChannelNotConcluded", values: [ID], Class: ChannelNotConcludedError, args: { channelId: ID } },
  { name: "ChannelNotOpen", values: [ID], Class: ChannelNotOpenError, args: { channelId: ID } },
  { name: "ChannelParticipantsInvalid", values: [A, B], Class: ChannelParticipantsInvalidError, args: { participant0: A, participant1: B } },
  { name: "ChannelPayeesInvalid", values: [A, ETH], Class: ChannelPayeesInvalidError, args: { payee0: A, payee1: ETH } },
  { name: "DepositNotReceived", values: [A, 14n], Class: DepositNotReceivedError, args: { token: A, amount: 14n } },
  { name: "DepositOverflow", values: [15n, 16n], Class: DepositOverflowError, args: { deposit: 15n, amount: 16n } },
  { name: "DepositValueMismatch", values: [17n, 18n], Class: DepositValueMismatchError, args: { value: 17n, expected: 18n } },
  { name: "DepositZero", values: [], Class: DepositZeroError, args: {} },
  { name: "InvalidShortString", values: [], Class: InvalidShortStringError, args: {} },
  { name: "LockAlreadyResolved", values: [ID], Class: LockAlreadyResolvedError, args: { leaf: ID } },
  { name: "LockChannelMismatch", values: [ID, OTHER], Class: LockChannelMismatchError, args: { channelId: ID, lockChannelId: OTHER } },
  { name: "LockNothingHeld", values: [OTHER], Class: LockNothingHeldError, args: { leaf: OTHER } },
  { name: "LockPending", values: [19n], Class: LockPendingError, args: { expiry: 19n } },
  { name: "LockProofInvalid", values: [ID], Class: LockProofInvalidError, args: { leaf: ID } },
  { name: "OpeningChallengeUnauthorized", values: [C], Class: OpeningChallengeUnauthorizedError, args: { caller: C } },
  { name: "ParticipantIndexInvalid", values: [2], Class: ParticipantIndexInvalidError, args: { participant: 2 } },
  { name: "PayoutGasInsufficient", values: [20n, 21n], Class: PayoutGasInsufficientError, args: { gasLeft: 20n, gasNeeded: 21n } },
  { name: "ReentrancyGuardReentrantCall", values: [], Class: ReentrancyGuardReentrantCallError, args: {} },
  { name: "SafeERC20FailedOperation", values: [B], Class: SafeERC20FailedOperationError, args: { token: B } },
  { name: "SecretAlreadyRevealed", values: [OTHER, 22n], Class: SecretAlreadyRevealedError, args: { hashlock: OTHER, revealedAt: 22n } },
  { name: "SignatureInvalid", values: [1], Class: SignatureInvalidError, args: { participant: 1 } },
  { name: "StateChannelMismatch", values: [ID, OTHER], Class: StateChannelMismatchError, args: { channelId: ID, stateChannelId: OTHER } },
  { name: "StateFinalWithLocks", values: [23n], Class: StateFinalWithLocksError, args: { version: 23n } },
  { name: "StateNotFinal", values: [24n], Class: StateNotFinalError, args: { version: 24n } },
  { name: "StateStale", values: [3n, 9n], Class: StateStaleError, args: { version: 3n, registeredVersion: 9n } },
  { name: "StateUnknown", values: [ID], Class: StateUnknownError, args: { channelId: ID } },
  { name: "StringTooLong", values: ["too long"], Class: StringTooLongError, args: { str: "too long" } },
  { name: "WithdrawFailed", values: [A, B, C, 25n], Class: WithdrawFailedError, args: { owner: A, asset: B, to: C, amount: 25n } },
  { name: "WithdrawNothing", values: [A, B], Class: WithdrawNothingError, args: { owner: A, asset: B } },
  { name: "WithdrawRecipientInvalid", values: [A], Class: WithdrawRecipientInvalidError, args: { to: A } },
  {
    name: "WithdrawalChannelMismatch",
    values: [ID, OTHER],
    Class: WithdrawalChannelMismatchError,
    args: { channelId: ID, withdrawalChannelId: OTHER },
  },
  { name: "WithdrawalExceedsHoldings", values: [26n, 27n], Class: WithdrawalExceedsHoldingsError, args: { amount: 26n, holdings: 27n } },
  { name: "WithdrawalExpired", values: [28n], Class: WithdrawalExpiredError, args: { expiry: 28n } },
];

describe("chain errors", function () {
  it("the table lists every custom error of the adjudicator's ABI, and the decoder has a class for each", function () {
    const abiNames: string[] = [];
    IFACE.forEachError((fragment) => abiNames.push(fragment.name));
    expect(ERROR_TABLE.map((row) => row.name).sort(), "errors of the ABI without a row").to.deep.equal([...abiNames].sort());
    expect(Object.keys(ADJUDICATOR_ERROR_CLASSES).sort(), "errors of the ABI without a class").to.deep.equal([...abiNames].sort());
  });

  for (const row of ERROR_TABLE) {
    it(`decodes ${row.name} into ${row.Class.name} with its arguments`, function () {
      const data = IFACE.encodeErrorResult(row.name, row.values) as Hex;
      const decoded = decodeRevertData(data);
      expect(decoded).to.be.instanceOf(row.Class);
      expect(decoded).to.be.instanceOf(AdjudicatorRevertError);
      expect(decoded).to.be.instanceOf(ContractRevertError);
      expect(decoded).to.be.instanceOf(SluiceError);
      expect(ADJUDICATOR_ERROR_CLASSES[row.name as AdjudicatorErrorName]).to.equal(row.Class);
      expect(decoded!.errorName).to.equal(row.name);
      expect(decoded!.name).to.equal(`${row.name}Error`);
      expect(decoded!.data).to.equal(data);
      expect(decoded!.args).to.deep.equal(row.args);
      // Through the generic path too, as a revert error from ethers.
      const viaEthers = decodeRevert(makeError("execution reverted", "CALL_EXCEPTION", { data }));
      expect(viaEthers).to.be.instanceOf(row.Class);
      expect(viaEthers!.args).to.deep.equal(row.args);
    });
  }

  it("gives uint8 indices as numbers and the other integers as bigints", function () {
    const sig = decodeRevertData(IFACE.encodeErrorResult("SignatureInvalid", [1]) as Hex);
    expect(sig).to.be.instanceOf(SignatureInvalidError);
    expect(sig!.args).to.deep.equal({ participant: 1 });
    const decoded = decodeRevertData(stale);
    expect(decoded!.args).to.deep.equal({ version: 3n, registeredVersion: 9n });
    expect(decoded!.message).to.equal("Adjudicator reverted: StateStale(version: 3, registeredVersion: 9)");
  });

  // The shapes the backends produced in test/chain/driver.test.ts, reduced to their paths.
  const shapes: [string, (data: Hex) => unknown][] = [
    ["ethers CALL_EXCEPTION (estimateGas / eth_call on a JSON-RPC node)", (data) => makeError("execution reverted", "CALL_EXCEPTION", { data })],
    ["in-process Hardhat ProviderError", (data) => Object.assign(new Error("VM Exception"), { data, transactionHash: "0x" + "11".repeat(32) })],
    [
      "hardhat node error nested in ethers' UNKNOWN_ERROR",
      (data) => makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { code: -32603, message: "VM Exception", data: { message: "x", txHash: "0x" + "22".repeat(32), data } } }),
    ],
    ["JSON-RPC body kept as text", (data) => Object.assign(new Error("server error"), { info: { responseBody: JSON.stringify({ error: { code: 3, data } }) } })],
    ["an error wrapped as the cause of another", (data) => new Error("outer", { cause: makeError("execution reverted", "CALL_EXCEPTION", { data }) })],
  ];
  for (const [shape, make] of shapes) {
    it(`finds the revert data in: ${shape}`, function () {
      const original = make(stale);
      const decoded = decodeRevert(original);
      expect(decoded).to.be.instanceOf(StateStaleError);
      expect(decoded!.args).to.deep.equal({ version: 3n, registeredVersion: 9n });
      expect(decoded!.cause).to.equal(original);
    });
  }

  it("reports the mined transaction's hash when the node gave one", function () {
    expect(decodeRevert(shapes[1][1](stale))!.transactionHash).to.equal("0x" + "11".repeat(32));
    expect(decodeRevert(shapes[2][1](stale))!.transactionHash).to.equal("0x" + "22".repeat(32));
    expect(decodeRevert(shapes[0][1](stale))!.transactionHash).to.equal(undefined);
  });

  it("decodes token errors, Error(string) and Panic as ContractRevertError, and unknown data raw", function () {
    const tokenData = IERC20Errors__factory.createInterface().encodeErrorResult("ERC20InsufficientAllowance", [
      "0x00000000000000000000000000000000000000aa",
      5n,
      7n,
    ]) as Hex;
    const token = decodeRevert(makeError("execution reverted", "CALL_EXCEPTION", { data: tokenData }));
    expect(token).to.be.instanceOf(ContractRevertError);
    expect(token).to.not.be.instanceOf(AdjudicatorRevertError);
    expect(token!.errorName).to.equal("ERC20InsufficientAllowance");
    expect(token!.args).to.deep.equal({ spender: "0x00000000000000000000000000000000000000AA", allowance: 5n, needed: 7n });

    const reason = decodeRevertData(("0x08c379a0" + new Interface([]).getAbiCoder().encode(["string"], ["no"]).slice(2)) as Hex);
    expect([reason!.errorName, reason!.args]).to.deep.equal(["Error", { message: "no" }]);
    const panic = decodeRevertData(("0x4e487b71" + new Interface([]).getAbiCoder().encode(["uint256"], [0x11]).slice(2)) as Hex);
    expect([panic!.errorName, panic!.args]).to.deep.equal(["Panic", { code: 0x11n }]);

    const unknown = decodeRevert(makeError("execution reverted", "CALL_EXCEPTION", { data: "0xdeadbeef" }));
    expect(unknown).to.be.instanceOf(ContractRevertError);
    expect([unknown!.errorName, unknown!.data]).to.deep.equal([undefined, "0xdeadbeef"]);
  });

  it("leaves errors that are not reverts alone", function () {
    expect(decodeRevert(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(undefined);
    expect(decodeRevert(makeError("timeout", "TIMEOUT", { operation: "call" }))).to.equal(undefined);
    const already = decodeRevertData(stale)!;
    expect(decodeRevert(already)).to.equal(already);
  });
});
