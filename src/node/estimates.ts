/** What an action would cost on chain now (the dashboard asks before it acts), or its typed refusal: nothing is signed or sent. */
import type { Provider } from "ethers";
import type { AdjudicatorDriver, EstimatedWrite } from "../chain";
import { InsufficientFundsError, InvalidAmountError, InvalidArgumentError } from "../errors";
import { ETH, type Address } from "../types";
import type { AssetInfo, EstimateRequest, EstimateView } from "./api/types";
import type { ChannelSessions } from "./channelSessions";
import type { ChannelLifecycle } from "./lifecycle";
import { DEFAULT_CHALLENGE_PERIOD } from "./nodeOptions";
import { paramsOf, type OpenTerms } from "./protocol";
import { checkWalletBalance } from "./wallet";

export interface EstimatesHost {
  address: Address;
  /** Where this node's payouts go by default. */
  payee: Address;
  provider: Provider;
  /** Challenge period of the channels this node opens. */
  challengePeriod?: bigint;
  driver: Pick<AdjudicatorDriver, "estimate">;
  sessions: ChannelSessions;
  lifecycle: Pick<ChannelLifecycle, "check">;
  /** An asset's decimals and symbol (cached by the node). */
  asset(asset: Address): Promise<AssetInfo>;
}

export class Estimates {
  constructor(private readonly host: EstimatesHost) {}

  async estimate(request: EstimateRequest): Promise<EstimateView> {
    const estimate = await this.host.driver.estimate(await this.writeOf(request));
    return { action: request.action, ...(request.channelId === undefined ? {} : { channelId: request.channelId }), ...estimate };
  }

  /** The write an action would send, checked as the action checks it before it signs. */
  private async writeOf(request: EstimateRequest): Promise<EstimatedWrite> {
    const { host } = this;
    const { action } = request;
    const amount = (): bigint => {
      if (request.amount === undefined) throw new InvalidArgumentError(`${action}: give the amount to estimate`);
      if (request.amount <= 0n) throw new InvalidAmountError(request.amount);
      return request.amount;
    };
    if (action === "withdraw") return { operation: "withdraw", asset: request.asset ?? ETH };
    if (action === "open") {
      if (request.peer === undefined || request.asset === undefined) throw new InvalidArgumentError("open: give the peer and the asset to estimate");
      const deposit = amount();
      await checkWalletBalance(host.provider, host.address, await host.asset(request.asset), deposit, "open");
      const challengePeriod = host.challengePeriod ?? DEFAULT_CHALLENGE_PERIOD;
      const terms: OpenTerms = { participants: [host.address, request.peer], payee: host.payee, asset: request.asset, challengePeriod, nonce: 0n };
      return { operation: "deposit", params: paramsOf(terms, request.peer), participant: 0, amount: deposit };
    }
    if (request.channelId === undefined) throw new InvalidArgumentError(`${action}: give the channelId`);
    const session = host.sessions.live(request.channelId, action);
    switch (action) {
      case "deposit": {
        const deposit = amount();
        await checkWalletBalance(host.provider, host.address, await host.asset(session.params.asset), deposit, "deposit");
        return { operation: "deposit", params: session.params, participant: session.me, amount: deposit };
      }
      case "cashout": {
        host.sessions.checkWithdrawable(session.id, "cash out");
        const wanted = amount();
        const available = session.payouts[session.me];
        if (wanted > available) throw new InsufficientFundsError(session.me, wanted, available);
        return { operation: "partialWithdraw", first: session.withdrawn.every((w) => w === 0n) };
      }
      case "close":
        host.lifecycle.check(session.id, "closed", "close");
        return { operation: "close" };
      case "challenge": {
        host.lifecycle.check(session.id, "challenged", "challenge");
        const latest = session.latest;
        return { operation: "challenge", params: session.params, signed: latest.state.version === 0n ? null : latest };
      }
    }
  }
}
