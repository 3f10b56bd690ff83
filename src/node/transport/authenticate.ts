/**
 * Runs the mutual handshake (see handshake.ts) on a fresh WebSocket, before any connection object
 * exists: resolves with the peer's proven address, or rejects with `HandshakeError` (its code says
 * why), `ConnectFailedError` (a client that never reached the server) or `ConnectionClosedError`.
 * A failed attempt gets an error frame naming the problem and a close with code 1008.
 */
import WebSocket from "ws";
import type { Address, Hex } from "../../types";
import { closedError, shutdown } from "./closing";
import { CloseCode, ErrorCode, type ErrorCodeString } from "./codes";
import { errorFrame, handshakeFrame, messageOf, readFrame, remoteErrorOf, type MessageId } from "./envelope";
import { ConnectFailedError, HandshakeError } from "./errors";
import {
  HANDSHAKE_PROTOCOL,
  freshNonce,
  handshakeDigest,
  parseAuth,
  parseHello,
  parseWelcome,
  recoverSigner,
  type DomainBody,
  type PeerRole,
} from "./handshake";
import type { Settings } from "./settings";

/** Decides whether a proven peer address may connect (server side). */
export type AcceptPeer = (address: Address) => boolean | Promise<boolean>;

/** Handshake frames are small; anything larger before authentication ends the attempt. */
const HANDSHAKE_FRAME_LIMIT = 4096;

export type HandshakeSettings = Pick<Settings<unknown>, "chainId" | "adjudicator" | "identity" | "handshakeTimeoutMs">;

export interface AuthenticateOptions {
  /** Server: decides whether the proven client may connect (PEER_REJECTED otherwise). */
  accept?: AcceptPeer;
  /** Client: the address the server must prove (PEER_REJECTED otherwise). */
  expectedPeer?: Address;
  /** Client: the URL dialled, for `ConnectFailedError`. */
  url?: string;
  /** Aborting fails a handshake still running (HANDSHAKE_FAILED) and closes the socket. */
  signal?: AbortSignal;
}

export type MessageListener = (data: WebSocket.RawData, isBinary: boolean) => void;

export interface Authenticated {
  /** The peer's address, proven by its signature over both nonces (lower case). */
  readonly peer: Address;
  /**
   * Gives the socket's frames to `listener`: first those that arrived after the handshake (they
   * are held until then), then every later one.
   */
  handOver(listener: MessageListener): void;
}

/** Authenticates the peer on `ws`; `role` is this side's ("server" accepted the socket, "client" dialled it). */
export function authenticate(ws: WebSocket, role: PeerRole, settings: HandshakeSettings, options: AuthenticateOptions = {}): Promise<Authenticated> {
  return new Promise((resolve, reject) => new Handshake(ws, role, settings, options, resolve, reject).start());
}

/** Waiting for the peer's next frame, busy signing/checking (any frame then is an error), or over. */
type Step = "await-hello" | "await-auth" | "await-welcome" | "busy" | "done" | "failed";

class Handshake {
  private step: Step;
  private serverNonce: Hex | undefined;
  private clientNonce: Hex | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wasOpen: boolean;
  private lastError: Error | undefined;
  /** Frames after the handshake, until `handOver`. */
  private held: Array<[WebSocket.RawData, boolean]> = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly role: PeerRole,
    private readonly settings: HandshakeSettings,
    private readonly options: AuthenticateOptions,
    private readonly resolve: (value: Authenticated) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.step = role === "server" ? "await-auth" : "await-hello";
    this.wasOpen = ws.readyState === WebSocket.OPEN;
  }

  start(): void {
    const { ws, options } = this;
    ws.on("message", this.onMessage);
    ws.on("close", this.onClose);
    ws.on("error", this.onError);
    ws.once("open", this.onOpen);
    this.timer = setTimeout(this.onTimeout, this.settings.handshakeTimeoutMs);
    if (options.signal?.aborted) {
      this.onAbort();
      return;
    }
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
    if (this.role === "server") {
      this.serverNonce = freshNonce();
      this.send(
        handshakeFrame("hello", {
          protocol: HANDSHAKE_PROTOCOL,
          chainId: this.settings.chainId.toString(),
          adjudicator: this.settings.adjudicator,
          nonce: this.serverNonce,
          address: this.settings.identity.address,
        }),
      );
    }
  }

  private get settled(): boolean {
    return this.step === "done" || this.step === "failed";
  }

  private send(frame: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  private readonly onOpen = (): void => {
    this.wasOpen = true;
  };

  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onTimeout = (): void => {
    this.fail(ErrorCode.HANDSHAKE_TIMEOUT, `the handshake did not complete within ${this.settings.handshakeTimeoutMs} ms`);
  };

  private readonly onAbort = (): void => {
    this.fail(ErrorCode.HANDSHAKE_FAILED, "closed by this node before the handshake completed");
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    if (this.settled) return;
    this.finish("failed");
    const client = this.role === "client";
    this.reject(client && !this.wasOpen ? new ConnectFailedError(this.options.url ?? "", { cause: this.lastError }) : closedError(code, reason, this.lastError));
  };

  private readonly onCrash = (error: unknown): void => {
    this.fail(ErrorCode.INTERNAL, `handshake signing failed: ${messageOf(error)}`);
  };

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    if (this.settled) {
      if (this.step === "done") this.held.push([data, isBinary]);
      return;
    }
    const frame = readFrame(data, isBinary, HANDSHAKE_FRAME_LIMIT);
    if (!frame.ok) {
      this.fail(frame.code, frame.detail, false, frame.id);
      return;
    }
    const { id, type, body } = frame;
    if (type === "error") {
      const error = remoteErrorOf(body);
      this.fail(error.code, error.detail, true);
      return;
    }
    // The step names the frame it awaits: "await-auth" awaits an "auth".
    const expected = this.step === "busy" ? undefined : this.step.slice("await-".length);
    if (type !== expected) {
      const notAuth = this.step === "busy" || this.step === "await-auth";
      const detail = notAuth
        ? `${JSON.stringify(type)} frame before the handshake completed${expected ? ` (expected "${expected}")` : ""}`
        : `expected "${expected}", got ${JSON.stringify(type)}`;
      this.fail(notAuth ? ErrorCode.NOT_AUTHENTICATED : ErrorCode.HANDSHAKE_FAILED, detail, false, id);
      return;
    }
    this.step = "busy";
    if (type === "hello") this.onHello(body).catch(this.onCrash);
    else if (type === "auth") this.onAuth(body).catch(this.onCrash);
    else this.onWelcome(body);
  };

  /** The body parsed by `parse`, or undefined when it is malformed (the attempt then failed). */
  private parsed<T>(parse: (body: unknown) => T, body: unknown): T | undefined {
    try {
      return parse(body);
    } catch (error) {
      this.fail(ErrorCode.HANDSHAKE_FAILED, messageOf(error));
      return undefined;
    }
  }

  /** Whether the peer speaks this protocol on this chain and contract; if not, the attempt failed. */
  private sameDomain(peer: DomainBody): boolean {
    const s = this.settings;
    if (peer.protocol !== HANDSHAKE_PROTOCOL) {
      this.fail(ErrorCode.HANDSHAKE_FAILED, `unsupported protocol ${JSON.stringify(peer.protocol)} (this node speaks ${HANDSHAKE_PROTOCOL})`);
    } else if (peer.chainId !== s.chainId) {
      this.fail(ErrorCode.CHAIN_MISMATCH, `the peer is on chain ${peer.chainId}, this node on chain ${s.chainId}`);
    } else if (peer.adjudicator !== s.adjudicator) {
      this.fail(ErrorCode.ADJUDICATOR_MISMATCH, `the peer uses adjudicator ${peer.adjudicator}, this node ${s.adjudicator}`);
    }
    return !this.settled;
  }

  private digest(role: PeerRole): Hex {
    const s = this.settings;
    return handshakeDigest({ chainId: s.chainId, adjudicator: s.adjudicator, serverNonce: this.serverNonce as Hex, clientNonce: this.clientNonce as Hex, role });
  }

  /** The signer of the peer's proof if it proves `claimed`; otherwise the attempt fails. */
  private proven(claimed: Address, signature: Hex): Address | undefined {
    const peerRole = this.role === "server" ? "client" : "server";
    const signer = recoverSigner(this.digest(peerRole), signature);
    if (signer === claimed) return signer;
    this.fail(ErrorCode.HANDSHAKE_FAILED, `the signature does not prove address ${claimed} for this session (it recovers ${signer ?? "no address"})`);
    return undefined;
  }

  // client: hello → auth
  private async onHello(body: unknown): Promise<void> {
    const hello = this.parsed(parseHello, body);
    if (hello === undefined || !this.sameDomain(hello)) return;
    const expected = this.options.expectedPeer?.toLowerCase();
    if (expected !== undefined && hello.address !== undefined && hello.address !== expected) {
      this.fail(ErrorCode.PEER_REJECTED, `expected peer ${expected}, but the server is ${hello.address}`);
      return;
    }
    const s = this.settings;
    this.serverNonce = hello.nonce;
    this.clientNonce = freshNonce();
    const signature = await s.identity.sign(this.digest("client"));
    if (this.settled) return;
    this.send(
      handshakeFrame("auth", {
        protocol: HANDSHAKE_PROTOCOL,
        chainId: s.chainId.toString(),
        adjudicator: s.adjudicator,
        nonce: this.clientNonce,
        address: s.identity.address,
        signature,
      }),
    );
    this.step = "await-welcome";
  }

  // server: auth → welcome
  private async onAuth(body: unknown): Promise<void> {
    const auth = this.parsed(parseAuth, body);
    if (auth === undefined || !this.sameDomain(auth)) return;
    if (auth.nonce.toLowerCase() === (this.serverNonce as Hex).toLowerCase()) {
      this.fail(ErrorCode.HANDSHAKE_FAILED, "the client nonce repeats the server nonce");
      return;
    }
    this.clientNonce = auth.nonce;
    const peer = this.proven(auth.address, auth.signature);
    if (peer === undefined) return;
    const accept = this.options.accept;
    if (accept && !(await accept(peer))) {
      this.fail(ErrorCode.PEER_REJECTED, `peer ${peer} is not accepted by this node`);
      return;
    }
    if (this.settled) return;
    const signature = await this.settings.identity.sign(this.digest("server"));
    if (this.settled) return;
    this.send(handshakeFrame("welcome", { address: this.settings.identity.address, signature }));
    this.complete(peer);
  }

  // client: welcome → done
  private onWelcome(body: unknown): void {
    const welcome = this.parsed(parseWelcome, body);
    if (welcome === undefined) return;
    const peer = this.proven(welcome.address, welcome.signature);
    if (peer === undefined) return;
    const expected = this.options.expectedPeer?.toLowerCase();
    if (expected !== undefined && peer !== expected) {
      this.fail(ErrorCode.PEER_REJECTED, `expected peer ${expected}, but the server proved ${peer}`);
      return;
    }
    this.complete(peer);
  }

  /** Stops the timer and the abort listener; the message listener stays until the hand-over. */
  private finish(step: "done" | "failed"): void {
    this.step = step;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.options.signal?.removeEventListener("abort", this.onAbort);
  }

  private complete(peer: Address): void {
    this.finish("done");
    this.ws.removeListener("close", this.onClose);
    this.ws.removeListener("error", this.onError);
    this.ws.removeListener("open", this.onOpen);
    this.resolve({ peer, handOver: this.handOver });
  }

  private readonly handOver = (listener: MessageListener): void => {
    this.ws.removeListener("message", this.onMessage);
    this.ws.on("message", listener);
    const held = this.held;
    this.held = [];
    for (const [data, isBinary] of held) listener(data, isBinary);
  };

  /** Ends the attempt: an error frame (unless the peer reported the failure), a 1008 close, a `HandshakeError`. */
  private fail(code: ErrorCodeString, detail: string, remote = false, id?: MessageId): void {
    if (this.settled) return;
    this.finish("failed");
    if (!remote) this.send(errorFrame(id, code, detail));
    shutdown(this.ws, CloseCode.POLICY, code);
    this.reject(new HandshakeError(code, detail, remote));
  }
}
