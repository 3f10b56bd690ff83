/**
 * A channel's moves on chain asked through the API: open (as participant 0), deposit, abandon an
 * open that failed, close, challenge, settle. Each answers with the channel id or the transaction;
 * the node builds the views.
 */
import { randomBytes } from "node:crypto";
import type { Provider } from "ethers";
import type { AdjudicatorDriver } from "../chain";
import { channelId as channelIdOf, toHex } from "../crypto";
import { InvalidArgumentError } from "../errors";
import { ChannelMode, type Address, type Hex } from "../types";
import type { AssetInfo, OpenChannelRequest, TxView } from "./api/types";
import type { ChannelSessions } from "./channelSessions";
import type { Deposits } from "./deposits";
import { INITIAL_STATUS, type ChannelLifecycle, type LifecycleEvent } from "./lifecycle";
import { checkPayee, DEFAULT_CHALLENGE_PERIOD } from "./nodeOptions";
import { ChannelFundedError, DEFAULT_OPEN_TIMEOUTS, MAX_CHALLENGE_PERIOD, OpenDepositTimeoutError, withinTime, type OpenTimeouts } from "./open";
import type { Peers } from "./peers";
import { decodeOpenReply, encodeOpenTerms, paramsOf, type OpenTerms } from "./protocol";
import type { ChannelStore } from "./store";
import type { ChainWatcher } from "./watcher";
import { checkWalletBalance } from "./wallet";

export interface ChannelOperationsHost {
  address: Address;
  /** Where this node's payouts go unless the request names another payee. */
  payee: Address;
  provider: Provider;
  /** Challenge period of the channels this node opens (unless the request names one). */
  challengePeriod?: bigint;
  openTimeouts?: OpenTimeouts;
  store: Pick<ChannelStore, "putChannel" | "getChannel">;
  driver: AdjudicatorDriver;
  lifecycle: ChannelLifecycle;
  sessions: ChannelSessions;
  peers: Pick<Peers, "connectForOpen" | "askRefresh">;
  deposits: Pick<Deposits, "refresh">;
  /** The node's watcher, once started. */
  watcher(): Pick<ChainWatcher, "concluding" | "recheck" | "registered"> | undefined;
  /** An asset's decimals and symbol (cached by the node). */
  asset(asset: Address): Promise<AssetInfo>;
}

export class ChannelOperations {
  constructor(private readonly host: ChannelOperationsHost) {}

  /** Opens a channel as participant 0 and deposits in it; resolves with its id once the deposit is read. */
  async open(request: OpenChannelRequest): Promise<Hex> {
    const { host } = this;
    if (request.peer.toLowerCase() === host.address.toLowerCase()) throw new InvalidArgumentError("cannot open a channel with this node itself");
    if (request.deposit <= 0n) throw new InvalidArgumentError("the opening deposit must be positive");
    const payee = request.payee ?? host.payee;
    checkPayee(payee, "the payee");
    const terms: OpenTerms = {
      participants: [host.address, request.peer.toLowerCase() as Address],
      payee: payee.toLowerCase() as Address,
      asset: request.asset,
      challengePeriod: request.challengePeriod ?? host.challengePeriod ?? DEFAULT_CHALLENGE_PERIOD,
      nonce: BigInt(toHex(randomBytes(8))),
    };
    // Refused before the peer stores anything: the chain would refuse the deposit and leave the channel opening.
    if (terms.challengePeriod <= 0n || terms.challengePeriod > MAX_CHALLENGE_PERIOD) {
      throw new InvalidArgumentError(`the challenge period must be from 1 second to 365 days (the adjudicator's maximum), not ${terms.challengePeriod} seconds`);
    }
    // Before the peer is asked: an asset that is no token, or a deposit the wallet can't pay, changes nothing.
    await checkWalletBalance(host.provider, host.address, await host.asset(request.asset), request.deposit, "open");
    const reachMs = request.reachTimeoutMs ?? host.openTimeouts?.reachMs ?? DEFAULT_OPEN_TIMEOUTS.reachMs;
    const connection = await host.peers.connectForOpen(request.peerUrl, request.peer, reachMs);
    // The peer announces its payee in its answer; both sides then hold the same params.
    const reply = decodeOpenReply(await connection.request("open", { params: encodeOpenTerms(terms) }));
    checkPayee(reply.payee, "the peer's payee");
    const params = paramsOf(terms, reply.payee);
    if (channelIdOf(params) !== reply.channelId) {
      throw new InvalidArgumentError(`the peer stored channel ${reply.channelId}, not ${channelIdOf(params)}`);
    }
    host.store.putChannel({ params, myIndex: 0, status: INITIAL_STATUS });
    const session = host.sessions.load(host.store.getChannel(channelIdOf(params))!);
    await session.attach(connection);
    const depositMs = host.openTimeouts?.depositMs ?? DEFAULT_OPEN_TIMEOUTS.depositMs;
    await withinTime(host.driver.deposit(params, 0, request.deposit), depositMs, () => new OpenDepositTimeoutError(session.id, depositMs));
    await host.deposits.refresh(session.id, true);
    await host.peers.askRefresh(session);
    return session.id;
  }

  /**
   * Gives up a channel whose open failed before funding: only `opening` ones, and only once a
   * chain read finds no deposit in it (one found makes it `open`, to be closed or challenged).
   */
  async abandon(channelId: Hex): Promise<Hex> {
    const { host } = this;
    const session = host.sessions.find(channelId);
    const status = host.lifecycle.status(session.id);
    // Concluded on chain: nothing to give up (the table refuses it, naming the status).
    if (status === "closed" || status === "settled") host.lifecycle.check(session.id, "abandoned", "abandon");
    const onChain = await host.driver.channelStatus(session.id);
    const funded = onChain.mode !== ChannelMode.None || onChain.deposits.some((d) => d > 0n);
    if (!funded && (status === INITIAL_STATUS || status === "abandoned")) {
      host.lifecycle.apply(session.id, "abandoned");
      return session.id;
    }
    if (funded) await host.deposits.refresh(session.id, true);
    throw new ChannelFundedError(session.id, funded ? onChain.deposits : session.deposits);
  }

  async deposit(channelId: Hex, amount: bigint): Promise<Hex> {
    const { host } = this;
    const session = host.sessions.live(channelId, "deposit");
    await checkWalletBalance(host.provider, host.address, await host.asset(session.params.asset), amount, "deposit");
    await host.driver.deposit(session.params, session.me, amount);
    await host.deposits.refresh(session.id, true);
    await host.peers.askRefresh(session);
    return session.id;
  }

  async close(channelId: Hex): Promise<TxView> {
    const { host } = this;
    const session = host.sessions.live(channelId, "close");
    // Nothing is signed for a channel the table can't close (one never funded: the chain would refuse it).
    await this.checkBeforeCall(session.id, "closed", "close");
    const final = await session.finalize();
    const result = await host.driver.close(session.params, final);
    host.watcher()?.concluding(session.id);
    host.lifecycle.apply(session.id, "closed");
    return { channelId: session.id, hash: result.hash, blockNumber: BigInt(result.blockNumber), gasUsed: result.gasUsed };
  }

  async challenge(channelId: Hex): Promise<TxView> {
    const { host } = this;
    const session = host.sessions.live(channelId, "challenge");
    // A restored channel's state may be older than one both signed since: it waits for the resync.
    session.requireResynced("challenge");
    await this.checkBeforeCall(session.id, "challenged", "challenge");
    const latest = session.latest;
    const result =
      latest.state.version === 0n ? await host.driver.challengeOpening(session.params) : await host.driver.challenge(session.params, latest);
    host.lifecycle.apply(session.id, "challenged");
    await host.watcher()?.recheck(session.id, true);
    return { channelId: session.id, hash: result.hash, blockNumber: BigInt(result.blockNumber), gasUsed: result.gasUsed };
  }

  async settle(channelId: Hex): Promise<TxView> {
    const { host } = this;
    const session = host.sessions.find(channelId);
    // `settle` takes the registered state back: the watcher's copy from the Challenged event if it
    // is the one registered now, else the chain's events.
    const known = host.watcher()?.registered(session.id);
    const status = await host.driver.channelStatus(session.id);
    // No challenge running: the contract's own refusal (ChannelNotChallenged, ChannelConcluded) says why.
    const registered =
      status.mode !== ChannelMode.Challenged
        ? session.latest.state
        : known !== undefined && known.version === status.version
          ? known
          : await host.driver.registeredState(session.id);
    const result = await host.driver.settle(session.params, registered);
    host.lifecycle.apply(session.id, "settled");
    return { channelId: session.id, hash: result.hash, blockNumber: BigInt(result.blockNumber), gasUsed: result.gasUsed };
  }

  /**
   * Refuses an API call whose transaction would move the channel against the table, before it
   * signs or sends anything. A channel still opening is read from the chain first (its funding
   * may not have been seen yet).
   */
  private async checkBeforeCall(channelId: Hex, event: LifecycleEvent, what: string): Promise<void> {
    if (this.host.lifecycle.status(channelId) === INITIAL_STATUS) await this.host.deposits.refresh(channelId);
    this.host.lifecycle.check(channelId, event, what);
  }
}
