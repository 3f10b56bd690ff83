// Channels: status, deposits, balances, version, whether the peer is online, a dispute's deadline
// counting down; actions (open, deposit, pay, cash out, close, challenge) each behind a confirmation
// that shows the on-chain ones' gas estimate (GET /v1/estimate) before anything is sent.
import { assetInfo, canAct, read, write } from "../api.js";
import { badge, el, formatAmount, formatCountdown, parseAmount, short } from "../dom.js";
import { isOnline, subscribe } from "../live.js";
import { coalesce, confirmAction, explain, showMessage } from "../ui.js";

const ETH = "0x0000000000000000000000000000000000000000";
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The amount field's base units, or null while it is empty (a wrong amount throws its readable error). */
function amountOrNull(text, info) {
  return String(text).trim() === "" ? null : parseAmount(text, info);
}

async function openChannel() {
  const opened = await confirmAction({
    title: "Open a channel",
    text: "Your node deposits on chain and waits for the deposit to be confirmed.",
    ok: "Open and deposit",
    fields: [
      { name: "peer", label: "Peer's address", placeholder: "0x…" },
      { name: "peerUrl", label: "Peer's URL", placeholder: "ws://host:port" },
      { name: "asset", label: "Asset (token address; 0x000…0 for ETH)", value: ETH },
      { name: "deposit", label: "Your deposit", placeholder: "100" },
    ],
    estimate: (v) => {
      const [peer, asset] = [v.peer.trim(), v.asset.trim()];
      if (!ADDRESS.test(peer) || !ADDRESS.test(asset) || v.deposit.trim() === "") return null;
      return assetInfo(asset).then((info) => read("estimate", { action: "open", peer, asset, amount: parseAmount(v.deposit, info) }));
    },
    run: async (v) => {
      const info = await assetInfo(v.asset.trim());
      return write("open", { peer: v.peer.trim(), peerUrl: v.peerUrl.trim(), asset: v.asset.trim(), deposit: parseAmount(v.deposit, info) });
    },
  });
  if (opened !== undefined) showMessage(`Channel ${short(opened.channelId)} is open.`, "info");
}

function amountAction(channel, info, { title, text, ok, method, done }) {
  return async () => {
    const result = await confirmAction({
      title,
      text,
      ok,
      fields: [{ name: "amount", label: `Amount (${info.symbol})`, placeholder: "10" }],
      estimate: (v) => {
        const amount = amountOrNull(v.amount, info);
        return amount === null ? null : read("estimate", { action: method, channelId: channel.channelId, amount });
      },
      run: (v) => write(method, { channelId: channel.channelId, amount: parseAmount(v.amount, info) }),
    });
    if (result !== undefined) showMessage(done(result), "info");
  };
}

/** An action on the channel alone; `estimated` false for one GET /v1/estimate does not know (settle). */
function plainAction(channel, { title, text, ok, method, done, danger = true, estimated = true }) {
  return async () => {
    const estimate = estimated ? () => read("estimate", { action: method, channelId: channel.channelId }) : undefined;
    const result = await confirmAction({ title, text, ok, danger, estimate, run: () => write(method, { channelId: channel.channelId }) });
    if (result !== undefined) showMessage(done(result), "info");
  };
}

function actionsOf(channel, info) {
  if (!canAct()) return [];
  const amount = (value) => formatAmount(value, info);
  const buttons = [];
  const button = (label, action, kind = "secondary") => el("button", { type: "button", class: kind, onclick: action, "data-action": label.toLowerCase() }, label);
  if (channel.status === "open") {
    buttons.push(
      button("Deposit", amountAction(channel, info, { title: "Deposit", text: "Adds to your deposit in this channel, on chain.", ok: "Deposit", method: "deposit", done: () => "Deposit confirmed." })),
      button("Pay", async () => {
        const paid = await confirmAction({
          title: "Pay your peer",
          text: "Off chain: no transaction, no gas.",
          ok: "Pay",
          fields: [{ name: "amount", label: `Amount (${info.symbol})` }, { name: "memo", label: "Reference (text, optional)", optional: true }],
          run: (v) => write("pay", { channelId: channel.channelId, amount: parseAmount(v.amount, info), ...(v.memo.trim() === "" ? {} : { memo: v.memo.trim() }) }),
        });
        if (paid !== undefined) showMessage(`Paid ${amount(paid.amount)} (payment #${paid.seq}).`, "info");
      }),
      button("Cash out", amountAction(channel, info, {
        title: "Cash out",
        text: `Takes an amount out to your payee without closing the channel (you can take up to ${amount(channel.balances[channel.me])}).`,
        ok: "Cash out",
        method: "cashout",
        done: (r) => (r.status === "executed" ? `Cashed out ${amount(r.amount)}.` : `Cash-out signed, not executed yet: ${r.reason ?? "the node retries"}.`),
      })),
      button("Close", plainAction(channel, { title: "Close the channel", text: "Both sides sign the final balances and your node submits them on chain. This ends the channel.", ok: "Close channel", method: "close", done: () => "The channel is closed." })),
    );
  }
  if (channel.status === "open" || channel.status === "disputed") {
    buttons.push(button("Challenge", plainAction(channel, { title: "Challenge", text: "Registers your latest state on chain: starts a dispute (or answers one). Use it when the peer does not cooperate.", ok: "Challenge", method: "challenge", done: () => "Your latest state is registered on chain." })));
  }
  if (channel.status === "disputed" && channel.deadline !== undefined && Number(channel.deadline) * 1000 <= Date.now()) {
    buttons.push(button("Settle", plainAction(channel, { title: "Settle", text: "The dispute's deadline passed: pays both sides out.", ok: "Settle", method: "settle", estimated: false, done: () => "Settled." })));
  }
  return buttons;
}

function channelCard(channel, info) {
  const me = channel.me;
  const peer = 1 - me;
  const peerAddress = channel.participants[peer];
  const amount = (value) => formatAmount(value, info);
  const online = isOnline(peerAddress);
  const deadline = channel.deadline === undefined ? null : el("span", { class: "countdown", "data-deadline": channel.deadline });
  return el("section", { class: "card channel", "data-channel": channel.channelId },
    el("h2", {}, `${info.symbol} channel ${short(channel.channelId)} `, badge(channel.status)),
    el("p", { class: "muted" }, "Peer ", el("span", { class: "mono" }, short(peerAddress)), " ", badge(online ? "online" : "offline")),
    el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `balances of channel ${short(channel.channelId)}` },
      el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "You"), el("th", {}, "Peer"))),
        el("tbody", {},
          el("tr", {}, el("th", { scope: "row" }, "Deposits"), el("td", {}, amount(channel.deposits[me])), el("td", {}, amount(channel.deposits[peer]))),
          el("tr", {}, el("th", { scope: "row" }, "Balance"), el("td", { class: "balance-me" }, amount(channel.balances[me])), el("td", { class: "balance-peer" }, amount(channel.balances[peer]))),
          el("tr", {}, el("th", { scope: "row" }, "Cashed out"), el("td", {}, amount(channel.withdrawn[me])), el("td", {}, amount(channel.withdrawn[peer]))),
          el("tr", {}, el("th", { scope: "row" }, "Locked"), el("td", {}, amount(channel.locked?.[me] ?? 0)), el("td", {}, amount(channel.locked?.[peer] ?? 0))),
        ),
      ),
    ),
    el("p", { class: "muted" }, `Version ${channel.version} · ${channel.payments} payments · challenge period ${channel.challengePeriod} s`),
    deadline === null ? null : el("p", {}, "Dispute deadline: ", deadline),
    el("div", { class: "actions" }, actionsOf(channel, info)),
  );
}

function tickCountdowns(container) {
  for (const node of container.querySelectorAll(".countdown")) {
    node.textContent = formatCountdown(Number(node.dataset.deadline) - Math.floor(Date.now() / 1000));
  }
}

export function show(container) {
  const list = el("div", { id: "channel-list" });
  container.append(
    el("div", { class: "row" }, el("h1", {}, "Channels"), canAct() ? el("button", { type: "button", id: "open-channel", onclick: () => openChannel().catch((e) => showMessage(explain(e))) }, "Open a channel") : null),
    list,
  );
  const refresh = coalesce(async () => {
    try {
      const channels = await read("channels");
      const cards = [];
      for (const channel of channels.slice().reverse()) cards.push(channelCard(channel, await assetInfo(channel.asset)));
      // A live redraw keeps the keyboard's place: the same action of the same channel gets the focus back.
      const focused = list.contains(document.activeElement) ? document.activeElement : null;
      const channel = focused?.closest("[data-channel]")?.getAttribute("data-channel");
      const action = focused?.getAttribute("data-action");
      list.replaceChildren(...(cards.length > 0 ? cards : [el("p", { class: "card" }, "No channel yet.")]));
      if (channel && action) list.querySelector(`[data-channel="${channel}"] [data-action="${action}"]`)?.focus();
      tickCountdowns(list);
    } catch (error) {
      showMessage(explain(error));
    }
  });
  void refresh();
  const unsubscribe = subscribe(["channel.", "payment.", "withdrawal.", "peer.", "stream."], () => void refresh());
  const clock = setInterval(() => tickCountdowns(list), 1_000); // the countdown only: no request
  return () => {
    unsubscribe();
    clearInterval(clock);
  };
}
