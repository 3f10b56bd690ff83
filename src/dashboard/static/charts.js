// Small bar charts drawn as inline SVG by the page itself (no library): one bar per minute, the
// newest on the right. Values are numbers or bigints (base units); `format` prints one for people.
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 80;

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** `part` / `whole` of the chart's height, for numbers and bigints alike. */
function share(part, whole) {
  if (typeof part === "bigint") return Number((part * 1000n) / whole) / 1000;
  return part / whole;
}

/**
 * A bar chart of `values` (oldest first). The SVG carries `data-total` (the sum, as text) and each
 * bar `data-value`, so a reader (and the tests) can see what it shows; `label` names it for screen
 * readers, with the newest value and the total.
 */
export function barChart({ id, values, label, format = String }) {
  const zero = typeof values[0] === "bigint" ? 0n : 0;
  const total = values.reduce((a, b) => a + b, zero);
  const top = values.reduce((a, b) => (b > a ? b : a), zero);
  const scale = top > zero ? top : typeof zero === "bigint" ? 1n : 1;
  const latest = values[values.length - 1] ?? zero;
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": `${label}: ${format(latest)} in the last minute, ${format(total)} in ${values.length} minutes`, "data-total": String(total), preserveAspectRatio: "none" });
  if (id !== undefined) chart.id = id;
  const step = WIDTH / Math.max(1, values.length);
  values.forEach((value, i) => {
    const height = value > zero ? Math.max(2, share(value, scale) * (HEIGHT - 2)) : 0;
    const bar = svg("rect", { x: (i * step + 1).toFixed(2), y: (HEIGHT - height).toFixed(2), width: Math.max(1, step - 2).toFixed(2), height: height.toFixed(2), class: "bar", "data-value": String(value) });
    const title = svg("title", {});
    title.textContent = `${values.length - 1 - i} min ago: ${format(value)}`;
    bar.append(title);
    chart.append(bar);
  });
  chart.append(svg("line", { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: "axis" }));
  return chart;
}
