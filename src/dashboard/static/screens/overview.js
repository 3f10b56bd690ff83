// Overview: per asset, what this node holds in its channels, what is locked in pending transfers
// and what the adjudicator holds as credits for its payees; payments per minute and volume per
// asset as charts, live from the event stream.
import { assetInfo, read } from "../api.js";
import { barChart } from "../charts.js";
import { el, formatAmount, short } from "../dom.js";
import { paymentsPerMinute, subscribe } from "../live.js";
import { coalesce, explain, showMessage } from "../ui.js";

const ACTIVE = new Set(["opening", "open", "closing", "disputed"]);
const MINUTES = 30;

const emptyTotals = () => ({ channels: 0, inChannels: 0n, spendable: 0n, receivable: 0n, locked: 0n, cashingOut: 0n, credits: 0n, creditsElsewhere: [] });

/** Sums per asset of the active channels, and the credits, in base units (bigint). */
function totals(channels, credits) {
  const byAsset = new Map();
  const of = (asset) => {
    const key = asset.toLowerCase();
    if (!byAsset.has(key)) byAsset.set(key, emptyTotals());
    return byAsset.get(key);
  };
  for (const c of channels) {
    if (!ACTIVE.has(c.status)) continue;
    const me = c.me;
    const peer = 1 - me;
    const t = of(c.asset);
    t.channels += 1;
    t.inChannels += BigInt(c.balances[me]);
    if (c.status === "open") {
      t.spendable += BigInt(c.balances[me]);
      t.receivable += BigInt(c.balances[peer]);
    }
    t.locked += BigInt(c.locked?.[me] ?? 0);
    for (const w of c.withdrawals) if (w.participant === me) t.cashingOut += BigInt(w.amount);
  }
  for (const credit of credits) {
    if (BigInt(credit.amount) === 0n && !byAsset.has(credit.asset.toLowerCase())) continue;
    const t = of(credit.asset);
    t.credits += BigInt(credit.amount);
    if (!credit.withdrawable && BigInt(credit.amount) > 0n) t.creditsElsewhere.push(credit);
  }
  return byAsset;
}

function assetCard(asset, t, info) {
  const amount = (value) => formatAmount(value, info);
  const row = (label, value, name) => [el("dt", {}, label), el("dd", { "data-stat": name }, amount(value))];
  return el("section", { class: "card", "data-asset": asset },
    el("h2", {}, `${info.symbol} · ${t.channels} channel${t.channels === 1 ? "" : "s"}`),
    el("dl", { class: "stat" },
      row("In channels", t.inChannels, "in-channels"), row("Spendable", t.spendable, "spendable"), row("Receivable", t.receivable, "receivable"),
      row("Locked", t.locked, "locked"), row("Cashing out", t.cashingOut, "cashing-out"), row("Credits to withdraw", t.credits, "credits"),
    ),
    t.creditsElsewhere.length === 0 ? null : el("p", { class: "muted" }, "Held for your payee ",
      t.creditsElsewhere.map((c, i) => [i === 0 ? "" : ", ", el("span", { class: "mono" }, short(c.owner)), ` (${amount(c.amount)})`]).flat(),
      ": the payee withdraws it from the adjudicator."),
  );
}

export function show(container) {
  const assets = el("div", { class: "grid", id: "asset-totals" });
  const charts = el("section", { class: "card", id: "charts" });
  container.append(el("h1", {}, "Overview"), assets, charts);
  const assetOf = new Map();
  const infos = new Map();

  const drawCharts = () => {
    const { counts, volumes } = paymentsPerMinute(MINUTES, (channelId) => assetOf.get(channelId));
    const volumeCharts = [];
    for (const [asset, values] of volumes) {
      const info = infos.get(asset);
      if (info === undefined) continue;
      volumeCharts.push(el("div", { class: "chart-box", "data-volume": asset },
        el("h3", {}, `Volume per minute, ${info.symbol}`),
        el("p", {}, el("span", { class: "big" }, formatAmount(values[values.length - 1], info)), el("span", { class: "muted" }, " in the last minute")),
        barChart({ values, label: `${info.symbol} paid and received per minute`, format: (v) => formatAmount(v, info) }),
      ));
    }
    charts.replaceChildren(
      el("h2", {}, "Payments"),
      el("div", { class: "chart-grid" },
        el("div", { class: "chart-box" },
          el("h3", {}, "Payments per minute"),
          el("p", {}, el("span", { class: "big", id: "rate-now" }, String(counts[counts.length - 1])), el("span", { class: "muted" }, " in the last minute")),
          barChart({ id: "rate-chart", values: counts, label: "payments per minute" }),
        ),
        ...volumeCharts,
      ),
      el("p", { class: "muted" }, `last ${MINUTES} minutes, live`),
    );
  };

  let credits = [];
  const loadCredits = async () => {
    credits = await read("credits");
  };

  const refresh = coalesce(async () => {
    try {
      const channels = await read("channels");
      for (const c of channels) assetOf.set(c.channelId.toLowerCase(), c.asset.toLowerCase());
      const cards = [];
      for (const [asset, t] of totals(channels, credits)) {
        const info = await assetInfo(asset);
        infos.set(asset, info);
        cards.push(assetCard(asset, t, info));
      }
      assets.replaceChildren(...(cards.length > 0 ? cards : [el("p", { class: "card" }, "No open channel yet: open one on the Channels screen.")]));
      drawCharts();
    } catch (error) {
      showMessage(explain(error));
    }
  });

  const refreshAll = () => loadCredits().then(refresh, (error) => showMessage(explain(error)));
  drawCharts();
  void refreshAll();
  const unsubscribe = subscribe(["payment.", "lock.", "channel.", "withdrawal.", "stream."], (event) => {
    if (event.type.startsWith("payment.")) drawCharts();
    // Credits change only when a channel concludes or a withdrawal is paid out: asked then.
    if (event.type.startsWith("channel.") || event.type.startsWith("withdrawal.") || event.type === "stream.open") void refreshAll();
    else void refresh();
  });
  const minute = setInterval(drawCharts, 60_000); // the charts' time axis moves on; no request is made
  return () => {
    unsubscribe();
    clearInterval(minute);
  };
}
