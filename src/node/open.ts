/**
 * The stages of opening a channel, their time limits, and the typed error of each: the peer is
 * reached (its WebSocket answers), its address is proven (the handshake shows the key named in
 * `open`), the deposit is seen (confirmed on chain, and the peer told of it).
 */
import { SluiceError } from "../errors";

export type OpenStage = "reach" | "prove" | "deposit";

/** What each stage is called in progress lines and errors. */
export const OPEN_STAGE_NAMES: { readonly [S in OpenStage]: string } = {
  reach: "reaching the peer",
  prove: "proving the peer's address",
  deposit: "waiting for the deposit",
};

/** The adjudicator's `MAX_CHALLENGE_PERIOD` (365 days): a longer one makes every deposit revert. */
export const MAX_CHALLENGE_PERIOD = 365n * 86_400n;

/** Time limits of the stages (ms). Proving the address is bounded by the transport's `handshakeTimeoutMs`. */
export interface OpenTimeouts {
  /** How long `open` keeps dialling a peer that does not answer (default 15,000). */
  reachMs?: number;
  /** How long `open` waits for its deposit transaction to be confirmed (default 300,000). */
  depositMs?: number;
}

export const DEFAULT_OPEN_TIMEOUTS: Required<OpenTimeouts> = { reachMs: 15_000, depositMs: 300_000 };

/** A stage of `open` failed; nothing else changed (no other peer's connection, no other channel). */
export class OpenStageError extends SluiceError {
  static override readonly code: string = "OPEN_FAILED";
  override readonly name: string = "OpenStageError";
  constructor(
    readonly stage: OpenStage,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`open failed at ${OPEN_STAGE_NAMES[stage]}: ${message}`, options);
  }
}

/** No answer from the peer's URL within the reach time limit: dialling it stopped. */
export class OpenPeerUnreachableError extends OpenStageError {
  static override readonly code: string = "OPEN_PEER_UNREACHABLE";
  override readonly name: string = "OpenPeerUnreachableError";
  constructor(
    readonly peerUrl: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    const why = options?.cause instanceof Error ? ` (last attempt: ${options.cause.message})` : "";
    super("reach", `no answer from ${peerUrl} within ${timeoutMs / 1000} s${why}; check the URL and that the peer's node runs`, options);
  }
}

/** The peer at the URL did not prove the address `open` named (another key, chain or contract). */
export class OpenPeerRejectedError extends OpenStageError {
  static override readonly code: string = "OPEN_PEER_REJECTED";
  override readonly name: string = "OpenPeerRejectedError";
  constructor(
    readonly peer: string,
    readonly peerUrl: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("prove", `the node at ${peerUrl} is not ${peer} as expected: ${detail}`, options);
  }
}

/**
 * `open` named another URL than the one the node is connected to the peer at. Refused, not
 * redialled: the connection is proven and carries the peer's other channels, and a mistyped URL
 * would only fail after the reach time limit. A peer that moved is dialled at its new URL once
 * the old connection is closed.
 */
export class OpenPeerUrlMismatchError extends OpenStageError {
  static override readonly code: string = "OPEN_PEER_URL_MISMATCH";
  override readonly name: string = "OpenPeerUrlMismatchError";
  constructor(
    readonly peer: string,
    readonly peerUrl: string,
    readonly connectedUrl: string,
  ) {
    super("reach", `${peer} is connected at ${connectedUrl}, not at ${peerUrl}: open with ${connectedUrl}`);
  }
}

/** Whether two peer URLs name the same place ("ws://h:1" and "ws://h:1/" do). */
export function samePeerUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/** The deposit transaction was not confirmed in time; the channel stays `opening` until it is. */
export class OpenDepositTimeoutError extends OpenStageError {
  static override readonly code: string = "OPEN_DEPOSIT_TIMEOUT";
  override readonly name: string = "OpenDepositTimeoutError";
  constructor(
    readonly channelId: string,
    readonly timeoutMs: number,
  ) {
    super(
      "deposit",
      `the deposit into channel ${channelId} was not confirmed within ${timeoutMs / 1000} s; ` +
        "it may still be; see `sluice channel`, and `sluice abandon` it if nothing arrives",
    );
  }
}

/** A channel with deposits on chain can't be abandoned: its money leaves only by close or challenge. */
export class ChannelFundedError extends SluiceError {
  static override readonly code: string = "CHANNEL_FUNDED";
  override readonly name: string = "ChannelFundedError";
  constructor(
    readonly channelId: string,
    readonly deposits: readonly [bigint, bigint],
  ) {
    super(
      `channel ${channelId} can't be abandoned: it holds deposits on chain; ` +
        "close it (`sluice close`) or, if the peer does not answer, challenge it (`sluice challenge`)",
    );
  }
}

/** Rejects with `onTimeout()` if `work` has not settled within `ms`. */
export function withinTime<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
