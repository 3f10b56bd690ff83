/** Ending a socket: the close handshake with a deadline, and the error a close is reported as. */
import WebSocket from "ws";
import { CloseCode, ErrorCode } from "./codes";
import { ConnectionClosedError } from "./errors";

/** How long a closing socket may take before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/** Starts the close handshake and destroys the socket if the peer doesn't finish it soon. */
export function shutdown(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED) return;
  if (ws.readyState === WebSocket.CONNECTING) {
    ws.terminate();
    return;
  }
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

/** The error a close with `code` and `reason` (ws's "close" event arguments) is reported as. */
export function closedError(code: number, reason: Buffer, cause: Error | undefined): ConnectionClosedError {
  let text = reason.toString("utf8");
  if (code === CloseCode.TOO_BIG && text === "") text = ErrorCode.FRAME_TOO_LARGE;
  return new ConnectionClosedError(code, text, { cause });
}
