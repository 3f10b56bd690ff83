/** What the API shows of the node's state: a channel, the chain as the node sees it, the adjudicator's credits. */
import type { Provider } from "ethers";
import { FailoverProvider, type AdjudicatorDriver } from "../chain";
import type { WithdrawalRecord } from "../channel";
import { ETH, type Address } from "../types";
import type { ChainHealthView, ChannelView, CreditView, WithdrawalView } from "./api/types";
import type { ChannelSession } from "./session";
import type { ChannelRecord } from "./store";
import type { ChainWatcher } from "./watcher";

/** What a channel's view reads besides its session: the watcher (once started) and the chain (a dispute's deadline). */
export interface ChannelViewSources {
  watcher: Pick<ChainWatcher, "pendingDeposits"> | undefined;
  driver: Pick<AdjudicatorDriver, "channelStatus">;
}

export async function channelView(session: ChannelSession, status: ChannelRecord["status"], sources: ChannelViewSources): Promise<ChannelView> {
  const latest = session.latest.state;
  return {
    channelId: session.id,
    participants: [...session.params.participants],
    payees: [...session.params.payees],
    asset: session.params.asset,
    challengePeriod: session.params.challengePeriod,
    nonce: session.params.nonce,
    me: session.me,
    status,
    deposits: [...session.deposits],
    withdrawn: [...session.withdrawn],
    withdrawals: withdrawalViews(session.withdrawals, session.withdrawn),
    version: latest.version,
    transferred: [...latest.transferred],
    balances: session.payouts,
    locked: [...latest.locked],
    payments: BigInt(session.paymentCount),
    ...pendingDepositsOf(session, sources.watcher),
    ...(session.resyncRequired ? { resyncRequired: true as const } : {}),
    ...(status === "disputed" ? { deadline: (await sources.driver.channelStatus(session.id)).deadline } : {}),
  };
}

/** What each side deposited in blocks not yet confirmed, beyond its confirmed deposit (only if any). */
function pendingDepositsOf(session: ChannelSession, watcher: ChannelViewSources["watcher"]): Pick<ChannelView, "pendingDeposits"> {
  const seen = watcher?.pendingDeposits(session.id);
  if (!seen) return {};
  const pending: [bigint, bigint] = [0, 1].map((i) => (seen[i] > session.deposits[i] ? seen[i] - session.deposits[i] : 0n)) as [bigint, bigint];
  return pending[0] > 0n || pending[1] > 0n ? { pendingDeposits: pending } : {};
}

/** The live withdrawals for the API, each with the amount it adds to its participant's earlier ones. */
function withdrawalViews(records: readonly WithdrawalRecord[], withdrawn: readonly [bigint, bigint]): WithdrawalView[] {
  const base: [bigint, bigint] = [withdrawn[0], withdrawn[1]];
  return [...records]
    .sort((a, b) => a.withdrawal.participant - b.withdrawal.participant || (a.withdrawal.total < b.withdrawal.total ? -1 : 1))
    .map(({ withdrawal: w, status }) => {
      const amount = w.total > base[w.participant] ? w.total - base[w.participant] : 0n;
      if (w.total > base[w.participant]) base[w.participant] = w.total;
      return { participant: w.participant, total: w.total, amount, expiry: w.expiry, status: status === "proposed" ? "proposed" : "signed" };
    });
}

/** The watcher's view of the chain, with the JSON-RPC endpoints when the node has several. */
export function chainView(watcher: Pick<ChainWatcher, "health"> | undefined, provider: Provider): ChainHealthView | undefined {
  const health = watcher?.health();
  if (health === undefined || !(provider instanceof FailoverProvider)) return health;
  const endpoints = provider.states.map(({ lastFailureAt, ...rest }) => ({ ...rest, ...(lastFailureAt === undefined ? {} : { lastFailureAt: BigInt(lastFailureAt) }) }));
  return { ...health, endpoints };
}

/** The chain's latest block; while the endpoint does not answer, the last one the watcher read (the status still answers). */
export async function latestBlock(provider: Provider, chain: ChainHealthView | undefined): Promise<bigint> {
  if (chain?.reachable === false && chain.lastBlock !== undefined) return chain.lastBlock;
  try {
    return BigInt(await provider.getBlockNumber());
  } catch (error) {
    if (chain?.lastBlock !== undefined) return chain.lastBlock;
    throw error;
  }
}

/** The adjudicator's credits of this node's payees and its own address, per asset of its channels (and ETH). */
export async function creditViews(
  driver: Pick<AdjudicatorDriver, "credits">,
  address: Address,
  payee: Address,
  sessions: Iterable<ChannelSession>,
): Promise<CreditView[]> {
  const own = address.toLowerCase() as Address;
  const owners = new Set<Address>([own, payee.toLowerCase() as Address]);
  const assets = new Set<Address>([ETH]);
  for (const session of sessions) {
    owners.add(session.params.payees[session.me].toLowerCase() as Address);
    assets.add(session.params.asset.toLowerCase() as Address);
  }
  const pairs = [...owners].flatMap((owner) => [...assets].map((asset) => ({ owner, asset })));
  return Promise.all(pairs.map(async ({ owner, asset }) => ({ owner, asset, amount: await driver.credits(owner, asset), withdrawable: owner === own })));
}
