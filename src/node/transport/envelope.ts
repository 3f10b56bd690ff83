/**
 * The envelope every frame travels in: JSON text `{ id?: number | string, type: string, body?: unknown }`.
 * Reading checks, in order, the size, JSON (parsed once), the envelope (no other keys); writing
 * encodes a request, notification, result or error frame. The body is the dispatcher's business.
 */
import type WebSocket from "ws";
import { InvalidArgumentError } from "../../errors";
import { APP_CODE_PATTERN, ErrorCode, type ErrorCodeString } from "./codes";
import { RemoteError } from "./errors";
import { describe } from "./validate";

/** Message id as it travels: this side assigns numbers; a peer may use strings. */
export type MessageId = number | string;

/** A frame that passed the envelope checks. */
export interface Envelope {
  ok: true;
  id: MessageId | undefined;
  type: string;
  body: unknown;
}

/** A frame that failed them: the error to answer with (`id` when it could be read). */
export interface BadFrame {
  ok: false;
  id: MessageId | undefined;
  code: ErrorCodeString;
  detail: string;
}

const MAX_MESSAGE_CHARS = 1024;
const MAX_TYPE_CHARS = 64;

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `text` cut to the length an error message may have. */
export function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

function bad(id: MessageId | undefined, code: ErrorCodeString, detail: string): BadFrame {
  return { ok: false, id, code, detail };
}

function isMessageId(value: unknown): value is MessageId {
  return typeof value === "number"
    ? Number.isSafeInteger(value) && value >= 0
    : typeof value === "string" && value.length > 0 && value.length <= MAX_TYPE_CHARS;
}

/** Reads one WebSocket message of at most `limit` bytes as an envelope. */
export function readFrame(data: WebSocket.RawData, isBinary: boolean, limit: number): Envelope | BadFrame {
  if (isBinary) return bad(undefined, ErrorCode.BAD_JSON, "binary frame: frames are JSON text");
  const buf = data as Buffer;
  if (buf.length > limit) return bad(undefined, ErrorCode.FRAME_TOO_LARGE, `frame of ${buf.length} bytes exceeds the limit of ${limit} bytes`);
  let frame: unknown;
  try {
    frame = JSON.parse(buf.toString("utf8"));
  } catch (error) {
    return bad(undefined, ErrorCode.BAD_JSON, `frame is not JSON: ${messageOf(error)}`);
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
    return bad(undefined, ErrorCode.BAD_ENVELOPE, `envelope: expected an object, got ${describe(frame)}`);
  }
  const env = frame as { id?: unknown; type?: unknown; body?: unknown };
  const id = env.id;
  if (id !== undefined && !isMessageId(id)) {
    return bad(undefined, ErrorCode.BAD_ENVELOPE, `envelope.id: expected a non-negative integer or a string of 1 to 64 characters, got ${describe(id)}`);
  }
  const type = env.type;
  if (typeof type !== "string" || type.length === 0 || type.length > MAX_TYPE_CHARS) {
    return bad(id, ErrorCode.BAD_ENVELOPE, `envelope.type: expected a string of 1 to 64 characters, got ${describe(type)}`);
  }
  for (const key in env) {
    if (key !== "id" && key !== "type" && key !== "body") return bad(id, ErrorCode.BAD_ENVELOPE, `envelope: unknown key ${JSON.stringify(clip(key))}`);
  }
  return { ok: true, id, type, body: env.body };
}

/**
 * A request (with `id`) or notification frame of an application type, within `maxFrameBytes`.
 * Throws `InvalidArgumentError` for a reserved or malformed type, a body JSON can't carry, or a
 * frame over the limit: nothing is sent then.
 */
export function encodeMessage(id: MessageId | undefined, type: string, body: unknown, maxFrameBytes: number): string {
  if (typeof type !== "string" || type.length === 0 || type.length > MAX_TYPE_CHARS || type === "result" || type === "error") {
    throw new InvalidArgumentError(`invalid message type ${JSON.stringify(type)}`);
  }
  let frame: string;
  try {
    frame = JSON.stringify(id === undefined ? { type, body } : { id, type, body });
  } catch (error) {
    throw new InvalidArgumentError(`can't encode the ${type} body as JSON: ${messageOf(error)}`, { cause: error });
  }
  // A UTF-16 length within a third of the limit is within it in UTF-8 too; otherwise count.
  if (frame.length * 3 > maxFrameBytes && Buffer.byteLength(frame) > maxFrameBytes) {
    throw new InvalidArgumentError(`the ${type} frame has ${Buffer.byteLength(frame)} bytes; the limit is ${maxFrameBytes}`);
  }
  return frame;
}

/** The answer to request `id`; throws if JSON can't carry the body. */
export function resultFrame(id: MessageId, body: unknown): string {
  return JSON.stringify({ id, type: "result", body });
}

export function errorFrame(id: MessageId | undefined, code: string, message: string): string {
  return JSON.stringify({ id, type: "error", body: { code, message: clip(message) } });
}

/** A handshake frame (no id). */
export function handshakeFrame(type: "hello" | "auth" | "welcome", body: unknown): string {
  return JSON.stringify({ type, body });
}

/** The peer's error frame body as a `RemoteError` (an unusable code becomes UNKNOWN). */
export function remoteErrorOf(body: unknown): RemoteError {
  const b = (typeof body === "object" && body !== null ? body : {}) as { code?: unknown; message?: unknown };
  const code = typeof b.code === "string" && APP_CODE_PATTERN.test(b.code) ? b.code : "UNKNOWN";
  const message = typeof b.message === "string" ? clip(b.message) : "";
  return new RemoteError(code, message);
}
