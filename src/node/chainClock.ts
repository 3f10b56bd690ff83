/** The chain's clock as the node knows it: the latest block's time and when each secret was revealed on chain. */
import type { Provider } from "ethers";
import { ChainResponseError } from "../chain";
import { lockPolicy, type LockPolicy, type LockRuleSettings } from "../channel";
import type { Hex } from "../types";

export class ChainClock {
  /** The latest block's timestamp seen (unix seconds): the lock rules' clock never runs behind it. */
  private latestBlockTime = 0n;
  /** When each secret was registered on chain (block timestamp), by hashlock: from the `SecretRevealed` events. */
  readonly secretReveals = new Map<string, bigint>();
  /** The lock rules of every channel: clock = max(wall clock, latest block), the secrets revealed on chain, the node's settings. */
  readonly lockRules: LockPolicy;

  constructor(
    private readonly provider: Provider,
    private readonly onError: (error: unknown, what: string) => void,
    rules: LockRuleSettings = {},
  ) {
    this.lockRules = lockPolicy({
      ...rules,
      clock: () => {
        const wall = BigInt(Math.floor(Date.now() / 1000));
        return wall > this.latestBlockTime ? wall : this.latestBlockTime;
      },
      secretRevealedAt: (hashlock) => this.secretReveals.get(hashlock.toLowerCase()) ?? 0n,
    });
  }

  /** The latest block's timestamp: withdrawal expiries are block timestamps. */
  async chainTime(): Promise<bigint> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new ChainResponseError("the chain has no latest block");
    const time = BigInt(block.timestamp);
    if (time > this.latestBlockTime) this.latestBlockTime = time;
    return time;
  }

  /** Keeps when a secret was registered on chain (its block's timestamp): the lock rules read it. */
  async recordReveal(hashlock: Hex, blockNumber: number): Promise<void> {
    try {
      const block = await this.provider.getBlock(blockNumber);
      if (!block) throw new ChainResponseError(`the chain has no block ${blockNumber}`);
      const key = hashlock.toLowerCase();
      const at = BigInt(block.timestamp);
      const known = this.secretReveals.get(key);
      if (known === undefined || at < known) this.secretReveals.set(key, at);
    } catch (error) {
      this.onError(error, `reading when secret ${hashlock} was revealed`);
    }
  }
}
