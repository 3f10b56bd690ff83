/**
 * Frames out to one socket. Frames sent in one tick leave in one write: the TCP socket under the
 * WebSocket (which this side created: see `openLink`) stays corked until the tick ends; without
 * that every frame is its own syscall and throughput falls as more requests are in flight.
 *
 * Congestion is read from ws's public API: `bufferedAmount`, and the callback `send` calls once a
 * frame has been written out. From the frame that takes the buffer over `maxBufferedBytes` on,
 * every frame carries that callback until one finds the buffer down to half: then `onDrain` runs.
 */
import WebSocket from "ws";

/** The parts of the socket under the WebSocket used here (net.Socket has them). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class FrameWriter {
  private corked = false;
  private congested = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Corkable | undefined,
    private readonly maxBufferedBytes: number,
    private readonly onDrain: () => void,
  ) {}

  /** Bytes queued for sending. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** More than `maxBufferedBytes` were queued and the buffer has not yet drained to half of it. */
  get isCongested(): boolean {
    return this.congested;
  }

  /** Queues `frame` if the socket is open (false if not). */
  send(frame: string): boolean {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    this.corkUntilTickEnd();
    // Three bytes per UTF-16 unit bounds the frame's UTF-8 size without counting it.
    if (this.congested || ws.bufferedAmount + frame.length * 3 > this.maxBufferedBytes) {
      this.congested = true;
      ws.send(frame, this.onWritten);
    } else {
      ws.send(frame);
    }
    return true;
  }

  private readonly onWritten = (error?: Error | null): void => {
    if (error || !this.congested || this.ws.bufferedAmount * 2 > this.maxBufferedBytes) return;
    this.congested = false;
    this.onDrain();
  };

  private corkUntilTickEnd(): void {
    if (this.corked || this.socket === undefined) return;
    this.socket.cork();
    this.corked = true;
    process.nextTick(this.uncork);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };
}
