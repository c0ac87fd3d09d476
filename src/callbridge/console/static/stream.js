// The push channel, WebSocket /console/v1/stream: resumes after the last id seen, reconnects with backoff, and
// asks the API whether the session is still there when it is refused or keeps failing.

import { $, API, api } from "./api.js";

const AUTH_ERRORS = new Set([
  "SESSION_MISSING",
  "SESSION_INVALID",
  "SESSION_EXPIRED",
  "SESSION_ENDED",
  "SESSION_PASSWORD_CHANGED",
]);

// The push channel: resumes after the last id seen, reconnects with backoff on any close or error.
export class Stream {
  constructor(onEvent, onHello) {
    this.onEvent = onEvent;
    this.onHello = onHello;
    this.lastId = null;
    this.backoff = 500;
    this.retryAfter = null;
    this.failures = 0;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
  }

  get live() {
    return this.state === "live";
  }

  setState(state, text) {
    this.state = state;
    const status = $("#stream-status");
    status.dataset.state = state;
    status.textContent = `Live updates: ${text}`;
  }

  open() {
    const url = new URL(`${API}/stream`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (this.lastId !== null) url.searchParams.set("after", String(this.lastId));
    this.setState(this.lastId === null ? "connecting" : "reconnecting", "connecting");
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", () => socket === this.socket && this.retry());
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type !== "stream.error" && Number.isInteger(message.id)) {
      this.lastId = Math.max(this.lastId ?? 0, message.id);
    }
    switch (message.type) {
      case "stream.hello":
        this.backoff = 500;
        this.failures = 0;
        this.setState("live", "on");
        this.onHello(message);
        break;
      case "stream.heartbeat":
        break;
      case "stream.reconnect":
        this.retryAfter = message.retryAfterMs ?? 250;
        break;
      case "stream.error":
        // Too far behind to replay: start afresh (the page reads its state again on hello).
        if (message.code === "RESUME_TOO_FAR" || message.code === "TOO_SLOW") this.lastId = null;
        this.error = message;
        break;
      default:
        this.onEvent(message);
    }
  }

  async retry() {
    if (this.stopped) return;
    this.setState("reconnecting", "reconnecting");
    this.failures += 1;
    // Refused for the session, or failing again and again: is the session still there?
    if ((this.error && AUTH_ERRORS.has(this.error.code)) || this.failures >= 3) {
      this.error = null;
      try {
        await api("GET", "/me");
      } catch {
        return; // signed out: api() showed the sign-in form
      }
    }
    const delay = this.retryAfter ?? this.backoff * (0.75 + Math.random() / 2);
    this.retryAfter = null;
    this.backoff = Math.min(this.backoff * 2, 15000);
    this.timer = setTimeout(() => this.open(), delay);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setState("off", "off");
  }
}
