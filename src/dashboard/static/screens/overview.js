// Overview: per asset, what this node holds in its channels; payments per minute, live.
import { assetInfo, read } from "../api.js";
import { el, formatAmount } from "../dom.js";
import { paymentsPerMinute, subscribe } from "../live.js";
import { coalesce, explain, showMessage } from "../ui.js";

const ACTIVE = new Set(["opening", "open", "closing", "disputed"]);

/** Sums per asset of the active channels, in base units (bigint). */
function totals(channels) {
  const byAsset = new Map();
  for (const c of channels) {
    if (!ACTIVE.has(c.status)) continue;
    const me = c.me;
    const peer = 1 - me;
    const t = byAsset.get(c.asset) ?? { channels: 0, inChannels: 0n, spendable: 0n, receivable: 0n, locked: 0n, cashingOut: 0n };
    t.channels += 1;
    t.inChannels += BigInt(c.balances[me]);
    if (c.status === "open") {
      t.spendable += BigInt(c.balances[me]);
      t.receivable += BigInt(c.balances[peer]);
    }
    t.locked += BigInt(c.locked?.[me] ?? 0);
    for (const w of c.withdrawals) if (w.participant === me) t.cashingOut += BigInt(w.amount);
    byAsset.set(c.asset, t);
  }
  return byAsset;
}

function chart(counts) {
  const max = Math.max(1, ...counts);
  const bars = counts.map((n, i) => {
    const bar = el("span", { title: `${counts.length - 1 - i} min ago: ${n}` });
    bar.style.height = `${(n / max) * 100}%`;
    return bar;
  });
  return el("div", { class: "chart", role: "img", "aria-label": `payments per minute over the last ${counts.length} minutes` }, bars);
}

export function show(container) {
  const assets = el("div", { class: "grid", id: "asset-totals" });
  const rate = el("div", { class: "card", id: "payment-rate" });
  container.append(el("h1", {}, "Overview"), assets, rate);

  const drawRate = () => {
    const counts = paymentsPerMinute(30);
    rate.replaceChildren(
      el("h2", {}, "Payments per minute"),
      el("p", {}, el("span", { class: "big", id: "rate-now" }, String(counts[counts.length - 1])), el("span", { class: "muted" }, " in the last minute")),
      chart(counts),
      el("p", { class: "muted" }, "last 30 minutes, live"),
    );
  };

  const refresh = coalesce(async () => {
    try {
      const channels = await read("channels");
      const cards = [];
      for (const [asset, t] of totals(channels)) {
        const info = await assetInfo(asset);
        const row = (label, value) => [el("dt", {}, label), el("dd", {}, formatAmount(value, info))];
        cards.push(
          el("section", { class: "card", "data-asset": asset },
            el("h2", {}, `${info.symbol} · ${t.channels} channel${t.channels === 1 ? "" : "s"}`),
            el("dl", { class: "stat" }, row("In channels", t.inChannels), row("Spendable", t.spendable), row("Receivable", t.receivable), row("Locked", t.locked), row("Cashing out", t.cashingOut)),
          ),
        );
      }
      assets.replaceChildren(...(cards.length > 0 ? cards : [el("p", { class: "card" }, "No open channel yet: open one on the Channels screen.")]));
    } catch (error) {
      showMessage(explain(error));
    }
  });

  drawRate();
  void refresh();
  const unsubscribe = subscribe(["payment.", "channel.", "withdrawal.", "stream."], (event) => {
    if (event.type.startsWith("payment.")) drawRate();
    void refresh();
  });
  const minute = setInterval(drawRate, 60_000); // the chart's time axis moves on; no request is made
  return () => {
    unsubscribe();
    clearInterval(minute);
  };
}
