/** What the node answers to its peers' requests (their bodies decoded by the transport's validators). */
import { channelId as channelIdOf } from "../crypto";
import { InvalidArgumentError } from "../errors";
import type { Address } from "../types";
import type { ChannelSessions } from "./channelSessions";
import type { Deposits } from "./deposits";
import { INITIAL_STATUS } from "./lifecycle";
import { checkPayee } from "./nodeOptions";
import { encodeSyncReply, encodeWithdrawalsReply, paramsOf, type OpenReply, type OpenTerms, type PeerMessages } from "./protocol";
import type { Routing } from "./routing";
import type { ChannelStore } from "./store";
import type { Handlers, PeerConnection } from "./transport";

export interface PeerHandlersHost {
  address: Address;
  /** Where this node's payouts go in the channels it accepts. */
  payee: Address;
  store: Pick<ChannelStore, "putChannel" | "getChannel">;
  sessions: ChannelSessions;
  deposits: Pick<Deposits, "refresh">;
  /** The routing messages' handlers (routing/routing.ts). */
  routing: Routing["handlers"];
  onError(error: unknown, what: string): void;
}

export function peerHandlers(host: PeerHandlersHost): Handlers<PeerMessages> {
  const { sessions } = host;
  return {
    open: (body, peer) => acceptOpen(host, body.params, peer),
    ...host.routing,
    channel: (body, peer) => sessions.sharedWith(body.channelId, peer.peerAddress).handle(peer, body.message),
    sync: (body, peer) => encodeSyncReply(sessions.sharedWith(body.channelId, peer.peerAddress).syncReply(body.version)),
    withdrawals: async (body, peer) => encodeWithdrawalsReply(await sessions.sharedWith(body.channelId, peer.peerAddress).withdrawalsReply()),
    refresh: async (body, peer) => {
      await host.deposits.refresh(sessions.sharedWith(body.channelId, peer.peerAddress).id, true);
      return {};
    },
  };
}

/** Participant 1's side of `open`: stores the channel with this node's payee and announces it. */
function acceptOpen(host: PeerHandlersHost, terms: OpenTerms, peer: PeerConnection<PeerMessages>): OpenReply {
  if (terms.participants[0].toLowerCase() !== peer.peerAddress.toLowerCase()) {
    throw new InvalidArgumentError("the opener must be participant 0");
  }
  if (terms.participants[1].toLowerCase() !== host.address.toLowerCase()) {
    throw new InvalidArgumentError("this node is not participant 1 of the channel");
  }
  checkPayee(terms.payee, "the opener's payee");
  const payee = host.payee.toLowerCase() as Address;
  const params = paramsOf(terms, payee);
  host.store.putChannel({ params, myIndex: 1, status: INITIAL_STATUS });
  const session = host.sessions.load(host.store.getChannel(channelIdOf(params))!);
  // The opener attaches on its side once this answer arrives; resync runs from there.
  setImmediate(() => void session.attach(peer).catch((error: unknown) => host.onError(error, `attaching ${session.id}`)));
  return { payee, channelId: session.id };
}
