// The node's event stream (GET /v1/events, Server-Sent Events): screens subscribe to event types
// instead of polling. EventSource resumes after the last id by itself (Last-Event-ID); if the
// node was down long enough for the browser to give up, the stream is reopened after a pause,
// unless the session is gone (then the page asks to log in again).
import { resume } from "./api.js";

const listeners = new Set();
const statusListeners = new Set();
const onlinePeers = new Set();
/** The payments the stream told of (past and new, the latest 10,000): { at, channelId, amount }. */
const paymentLog = [];
let source = null;
/** The types the page follows (EventSource delivers a named event only to a listener of its name). */
const EVENT_TYPES = ["payment.sent", "payment.received", "peer.connected", "peer.disconnected", "invoice.created", "invoice.paid", "invoice.cancelled", "invoice.expired",
  "channel.deposit", "channel.withdrawn", "channel.opening", "channel.open", "channel.closing", "channel.disputed", "channel.closed", "channel.settled", "channel.abandoned",
  "withdrawal.proposed", "withdrawal.signed", "withdrawal.executed", "withdrawal.expired", "withdrawal.refused", "withdrawal.void",
  "lock.added", "lock.settled", "lock.cancelled", "lock.expired", "lock.forwarded"];
let lastId = 0;
let retry = null;
let replayDone = false;

export const isOnline = (peer) => onlinePeers.has(peer.toLowerCase());

/**
 * Payments committed in each of the last `minutes` minutes, oldest first: their number, and their
 * volume (sent and received, base units) per key `keyOf(channelId)` (the overview keys by asset).
 */
export function paymentsPerMinute(minutes, keyOf) {
  const now = Date.now();
  const counts = new Array(minutes).fill(0);
  const volumes = new Map();
  for (const { at, channelId, amount } of paymentLog) {
    const age = Math.floor((now - at) / 60_000);
    if (age < 0 || age >= minutes) continue;
    counts[minutes - 1 - age] += 1;
    const key = keyOf(channelId);
    if (key === undefined) continue;
    if (!volumes.has(key)) volumes.set(key, new Array(minutes).fill(0n));
    volumes.get(key)[minutes - 1 - age] += BigInt(amount);
  }
  return { counts, volumes };
}

/** Calls `listener(event)` for every event whose type starts with one of `prefixes`; returns the unsubscribe. */
export function subscribe(prefixes, listener) {
  const entry = { prefixes, listener };
  listeners.add(entry);
  return () => listeners.delete(entry);
}

export function onStatus(listener) {
  statusListeners.add(listener);
}

function setStatus(connected) {
  for (const listener of statusListeners) listener(connected);
}

function handle(message) {
  const event = JSON.parse(message.data);
  lastId = Number(event.id);
  if (event.type === "peer.connected") onlinePeers.add(String(event.data.peer).toLowerCase());
  if (event.type === "peer.disconnected") onlinePeers.delete(String(event.data.peer).toLowerCase());
  if (event.type === "payment.sent" || event.type === "payment.received") {
    paymentLog.push({ at: event.at, channelId: String(event.channelId).toLowerCase(), amount: event.data.amount });
    if (paymentLog.length > 10_000) paymentLog.splice(0, paymentLog.length - 10_000);
  }
  if (!replayDone) return;
  for (const { prefixes, listener } of listeners) if (prefixes.some((p) => event.type.startsWith(p))) listener(event);
}

export function connect() {
  if (source !== null) return;
  source = new EventSource(`/v1/events?after=${lastId}`);
  for (const type of EVENT_TYPES) source.addEventListener(type, handle);
  source.addEventListener("open", () => {
    setStatus(true);
    // What the stream sends at once is the past: screens load it themselves.
    setTimeout(() => {
      replayDone = true;
      for (const { listener } of listeners) listener({ type: "stream.open" });
    }, 300);
  });
  source.addEventListener("error", () => {
    setStatus(false);
    if (source?.readyState === EventSource.CLOSED) {
      source = null;
      clearTimeout(retry);
      retry = setTimeout(reopen, 2_000);
    }
  });
}

/** Reopens the stream once the node answers again; stops if the session is gone (401). */
function reopen() {
  resume().then(connect, (error) => {
    if (error.status !== 401) retry = setTimeout(reopen, 2_000);
  });
}

export function disconnect() {
  clearTimeout(retry);
  source?.close();
  source = null;
  setStatus(false);
}
