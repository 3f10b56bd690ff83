/**
 * A TCP proxy in front of a node's peer port that can hold one direction of a peer connection at
 * an exact message: the node that dials the proxy gets the listening node's frames one by one
 * until one matches `holdAt`; that frame and everything after it are held (never delivered), so a
 * test can kill the dialling node knowing what it did and did not receive. The listening node's
 * frames are unmasked WebSocket frames (no compression): the proxy reads their payloads as text.
 * Later connections pass everything once a hold happened; `cut` drops the held one (the nodes redial).
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { LOOPBACK } from "./cluster";

export interface PeerProxy {
  /** ws:// URL to dial instead of the listening node's. */
  url: string;
  /** Holds the listening node's frames from the first whose text matches (once). */
  holdAt(match: (text: string) => boolean): void;
  /** The text of the frame held (undefined until a hold happened). */
  readonly held: string | undefined;
  /** The text of every frame passed from the listening node (for failure messages). */
  readonly passed: string[];
  /** Drops every connection through it (the held frames are lost; the nodes redial, and pass). */
  cut(): void;
  close(): Promise<void>;
}

export async function startPeerProxy(targetUrl: string): Promise<PeerProxy> {
  const target = new URL(targetUrl);
  let matcher: ((text: string) => boolean) | undefined;
  let held: string | undefined;
  const passed: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let holding = false;
    upstream.on("data", (chunk: Buffer) => {
      if (holding) return;
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        client.write(buffer.subarray(0, end + 4));
        buffer = buffer.subarray(end + 4);
        upgraded = true;
      }
      for (;;) {
        const frame = frameAt(buffer);
        if (frame === undefined) return;
        const text = frame.payload.toString("utf8");
        if (matcher?.(text)) {
          matcher = undefined;
          holding = true;
          held = text;
          return;
        }
        passed.push(text);
        client.write(buffer.subarray(0, frame.length));
        buffer = buffer.subarray(frame.length);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://${LOOPBACK}:${port}`,
    holdAt: (match) => void (matcher = match),
    get held() {
      return held;
    },
    passed,
    cut: () => {
      matcher = undefined;
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The unmasked WebSocket frame at the start of `buffer` (its payload and whole length), or undefined if incomplete. */
function frameAt(buffer: Buffer): { payload: Buffer; length: number } | undefined {
  if (buffer.length < 2) return undefined;
  let length = buffer[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { payload: buffer.subarray(offset, offset + length), length: offset + length };
}
