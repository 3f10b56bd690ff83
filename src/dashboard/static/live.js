// The node's event stream (GET /v1/events, Server-Sent Events): screens subscribe to event types
// instead of polling. EventSource resumes after the last id by itself (Last-Event-ID); if the
// node was down long enough for the browser to give up, the stream is reopened after a pause,
// unless the session is gone (then the page asks to log in again).
import { resume } from "./api.js";

const listeners = new Set();
const statusListeners = new Set();
const onlinePeers = new Set();
const paymentTimes = [];
let source = null;
let lastId = 0;
let retry = null;
let replayDone = false;

export const isOnline = (peer) => onlinePeers.has(peer.toLowerCase());

/** Payments committed in each of the last `minutes` minutes, oldest first. */
export function paymentsPerMinute(minutes = 30) {
  const now = Date.now();
  const counts = new Array(minutes).fill(0);
  for (const at of paymentTimes) {
    const age = Math.floor((now - at) / 60_000);
    if (age >= 0 && age < minutes) counts[minutes - 1 - age] += 1;
  }
  return counts;
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
    paymentTimes.push(event.at);
    if (paymentTimes.length > 10_000) paymentTimes.splice(0, paymentTimes.length - 10_000);
  }
  if (!replayDone) return;
  for (const { prefixes, listener } of listeners) if (prefixes.some((p) => event.type.startsWith(p))) listener(event);
}

export function connect() {
  if (source !== null) return;
  source = new EventSource(`/v1/events?after=${lastId}`);
  const types = ["payment.sent", "payment.received", "peer.connected", "peer.disconnected", "invoice.created", "invoice.paid", "invoice.cancelled", "channel.deposit", "channel.withdrawn",
    "channel.opening", "channel.open", "channel.closing", "channel.disputed", "channel.closed", "channel.settled", "channel.abandoned", "withdrawal.proposed", "withdrawal.signed",
    "withdrawal.executed", "withdrawal.expired", "withdrawal.refused", "withdrawal.void"];
  for (const type of types) source.addEventListener(type, handle);
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
