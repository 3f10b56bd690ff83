/**
 * A hand-driven peer for the misbehaving-peer tests: a bare `ws` socket that speaks the transport's
 * frames itself, so a test can send anything (garbage, oversized frames, frames before the
 * handshake, forged channel messages) and read exactly what the node answers.
 */
import WebSocket from "ws";
import { HANDSHAKE_PROTOCOL, freshNonce, handshakeDigest, type HandshakeIdentity } from "../../../src/node/transport";
import type { Address, Hex } from "../../../src/types";

export interface Frame {
  id?: number | string;
  type: string;
  body?: unknown;
}

export interface ErrorBody {
  code: string;
  message: string;
}

/** Answers the node's requests (e.g. its `sync` when it attaches a channel to this connection). */
export type RequestHandler = (frame: Frame) => unknown;

export class RawPeer {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private nextId = 1;
  /** Handlers of requests from the node, by type; `sync` answers "nothing newer" unless replaced. */
  readonly handlers = new Map<string, RequestHandler>([["sync", () => ({ items: [], more: false })]]);
  /** Requests from the node seen so far. */
  readonly requests: Frame[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => this.onFrame(data.toString("utf8")));
    this.closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })));
  }

  static async connect(url: string): Promise<RawPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    const peer = new RawPeer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return peer;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Runs the client side of the handshake with `identity`; resolves with the node's welcome. */
  async handshake(identity: HandshakeIdentity, chainId: bigint, adjudicator: Address): Promise<Frame> {
    const hello = await this.next((f) => f.type === "hello");
    const serverNonce = (hello.body as { nonce: Hex }).nonce;
    const clientNonce = freshNonce();
    const digest = handshakeDigest({ chainId, adjudicator, serverNonce, clientNonce, role: "client" });
    this.send({
      type: "auth",
      body: {
        protocol: HANDSHAKE_PROTOCOL,
        chainId: chainId.toString(),
        adjudicator: adjudicator.toLowerCase(),
        nonce: clientNonce,
        address: identity.address.toLowerCase(),
        signature: await identity.sign(digest),
      },
    });
    const answer = await this.next((f) => f.type === "welcome" || f.type === "error");
    if (answer.type !== "welcome") throw new Error(`handshake refused: ${JSON.stringify(answer.body)}`);
    return answer;
  }

  send(frame: Frame | string | Buffer): void {
    this.ws.send(typeof frame === "string" || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Sends a request and resolves with the node's answer (a result or an error frame). */
  async request(type: string, body?: unknown, timeoutMs = 15_000): Promise<Frame> {
    const id = `t${this.nextId++}`;
    this.send({ id, type, body });
    return this.next((f) => f.id === id && (f.type === "result" || f.type === "error"), timeoutMs);
  }

  /** Sends a request the node must refuse; resolves with the error's code and message. */
  async refused(type: string, body?: unknown): Promise<ErrorBody> {
    const answer = await this.request(type, body);
    if (answer.type !== "error") throw new Error(`expected an error reply to ${type}, got ${JSON.stringify(answer)}`);
    return answer.body as ErrorBody;
  }

  /** The next error frame without an id (the answer to a frame that had none, or no valid one). */
  async nextError(timeoutMs = 15_000): Promise<ErrorBody> {
    const frame = await this.next((f) => f.type === "error" && f.id === undefined, timeoutMs);
    return frame.body as ErrorBody;
  }

  /** The first frame (received from now, or already queued) that matches. */
  next(match: (f: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const index = this.frames.findIndex(match);
    if (index >= 0) return Promise.resolve(this.frames.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms (received: ${JSON.stringify(this.frames).slice(0, 500)})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.ws.terminate();
  }

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      frame = { type: "unparsable", body: text };
    }
    if (frame.id !== undefined && frame.type !== "result" && frame.type !== "error") {
      this.requests.push(frame);
      const handler = this.handlers.get(frame.type);
      if (handler) {
        Promise.resolve()
          .then(() => handler(frame))
          .then(
            (body) => this.isOpen && this.send({ id: frame.id, type: "result", body }),
            (error: unknown) =>
              this.isOpen && this.send({ id: frame.id, type: "error", body: { code: "REJECTED", message: (error as Error).message } }),
          );
        return;
      }
    }
    const waiter = this.waiters.find((w) => w.match(frame));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }
}
