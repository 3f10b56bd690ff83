// The dashboard: log in (a pasted token, or the cookie a one-time link left), then one screen at a
// time by the URL's hash; live updates from the node's event stream.
import { login, logout, onLoggedOut, read, resume, scope, screensAllowed } from "./api.js";
import { connect, disconnect, onStatus } from "./live.js";
import { clearMessage, explain, showMessage } from "./ui.js";

// Each screen's module is fetched the first time it is shown: the login page loads none of them.
const SCREENS = {
  overview: () => import("./screens/overview.js"),
  channels: () => import("./screens/channels.js"),
  payments: () => import("./screens/payments.js"),
  invoices: () => import("./screens/invoices.js"),
  hub: () => import("./screens/hub.js"),
};
const $ = (id) => document.getElementById(id);
let leave = () => undefined;
let node = null;
/** The latest route asked: a screen whose module arrives after another was asked is not shown. */
let routed = 0;

/** The screens of the session's scope, and Hub when the node routes (its info has `hub`). */
const allowedScreens = () => [...screensAllowed(), ...(node?.hub === undefined ? [] : ["hub"])];

function showLogin(reason) {
  routed += 1;
  leave();
  leave = () => undefined;
  disconnect();
  $("screen").replaceChildren();
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("node-address").textContent = "";
  $("login").hidden = false;
  if (reason !== undefined) showMessage(reason);
  $("token").focus();
}

async function showApp() {
  $("login").hidden = true;
  $("logout").hidden = false;
  node = screensAllowed().includes("overview") ? await read("info") : {};
  const allowed = allowedScreens();
  for (const link of document.querySelectorAll("nav a")) link.hidden = !allowed.includes(link.getAttribute("href").slice(2));
  // Shown once its links are the node's: never a screen the node lacks, nor one missing.
  $("nav").hidden = false;
  $("node-address").textContent = node.address === undefined ? scope() : `${node.address.slice(0, 8)}…${node.address.slice(-4)} · ${scope()}`;
  connect();
  await route();
}

async function route() {
  if (node === null) return;
  const allowed = allowedScreens();
  const asked = /^#\/([a-z]+)/.exec(location.hash)?.[1];
  const name = allowed.includes(asked) ? asked : allowed[0];
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  leave();
  leave = () => undefined;
  clearMessage();
  const container = $("screen");
  container.replaceChildren();
  const ticket = ++routed;
  let screen;
  try {
    screen = await SCREENS[name]();
  } catch (error) {
    showMessage(`The ${name} screen did not load: ${explain(error)}`);
    return;
  }
  if (ticket !== routed || node === null) return;
  leave = screen.show(container, { node }) ?? (() => undefined);
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Sluice node`;
}

async function start() {
  onStatus((connected) => {
    const live = $("live");
    live.textContent = connected ? "Live" : "Reconnecting…";
    live.className = `live ${connected ? "on" : "off"}`;
  });
  window.addEventListener("hashchange", () => void route());
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await login($("token").value);
      $("token").value = "";
      clearMessage();
      await showApp();
    } catch (error) {
      showMessage(explain(error));
    }
  });
  $("logout").addEventListener("click", async () => {
    await logout().catch(() => undefined);
    node = null;
    showLogin();
  });
  try {
    await resume();
  } catch {
    showLogin();
    return;
  } finally {
    onLoggedOut((reason) => showLogin(reason ?? "Your session ended: log in again."));
  }
  await showApp().catch((error) => showMessage(explain(error)));
}

void start();
