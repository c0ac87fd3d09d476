// The console API (/console/v1) as the pages call it, with the session cookie that sign-in sets (HttpOnly
// callbridge_session); a refusal is an ApiError. Also the small DOM helpers that every page uses.

export const API = "/console/v1";
export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Told when a request finds the session gone (session.js brings the sign-in form back).
let sessionEnded = () => {};

export function whenSessionEnds(handler) {
  sessionEnded = handler;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code ?? `HTTP_${status}`;
  }
}

export async function api(method, url, body) {
  // X-Requested-With: the server refuses state-changing requests that carry the session cookie without it
  // (or a same-origin Origin), which another site's page cannot forge.
  const headers = { Accept: "application/json", "X-Requested-With": "callbridge-console" };
  const init = { method, credentials: "same-origin", headers };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + url, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && url !== "/session") sessionEnded("Your session ended: sign in again.");
    throw error;
  }
  return data;
}

export const path = (...parts) => parts.map((part) => encodeURIComponent(part)).join("/");

export function notice(message) {
  const box = $("#notice");
  box.textContent = message;
  box.hidden = !message;
}

// Run an action from a button: the button is disabled meanwhile and a refusal is shown, not thrown.
export async function act(button, action) {
  if (button) button.disabled = true;
  try {
    notice("");
    await action();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) notice(error.message);
  } finally {
    if (button?.isConnected) button.disabled = false;
  }
}

// Coalesce bursts of events into one read of the API.
export function debounced(fn, wait = 150) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => fn().catch((error) => notice(error.message)), wait);
  };
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function age(since) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

export const clockTime = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });
