/** A node's watchtowers: the tower service it runs for other nodes (`--tower`) and its link to its own tower (`--tower-url`). */
import type { AdjudicatorDriver } from "../chain";
import { Tower } from "../tower";
import type { NodeInfo } from "./api/types";
import type { NodeOptions } from "./nodeOptions";
import type { PeerTransport } from "./peers";
import type { ChannelStore } from "./store";
import { TowerClient } from "./towerClient";

/** What the towers need of the node once it has read its chain. */
export interface TowersContext {
  store: ChannelStore;
  driver: AdjudicatorDriver;
  transport: PeerTransport;
  confirmations: number;
  onError: (error: unknown, what: string) => void;
}

export class Towers {
  private service: Tower | undefined;
  private link: TowerClient | undefined;

  constructor(private readonly options: Pick<NodeOptions, "tower" | "towerClient" | "pollMs" | "log">) {}

  /** Starts the tower service and the link to this node's own tower, if configured. */
  async start({ store, driver, transport, confirmations, onError }: TowersContext): Promise<void> {
    const { options } = this;
    if (options.tower) {
      this.service = await Tower.start({
        store,
        driver,
        transport,
        ...(options.tower.listen === undefined ? {} : { listen: options.tower.listen }),
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        confirmations,
        onError,
        ...(options.log === undefined ? {} : { log: options.log }),
      });
    }
    if (options.towerClient) {
      this.link = new TowerClient({ ...options.towerClient, transport, store, onError });
      this.link.start();
    }
  }

  /** The link first: the tower gets every channel's latest state before anything closes. */
  async stop(): Promise<void> {
    await this.link?.stop();
    await this.service?.stop();
  }

  /** The link's and the service's parts of `NodeInfo` (each only if configured). */
  views(): Pick<NodeInfo, "tower" | "towerService"> {
    return {
      ...(this.link === undefined ? {} : { tower: this.link.view() }),
      ...(this.service === undefined ? {} : { towerService: this.service.view() }),
    };
  }
}
