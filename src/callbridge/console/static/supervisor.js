// The supervisor view (/console/supervisor): live calls, agents, the queue backlog (clearing stale routing),
// and one call opened with its timeline and transcript.

import { $, $$, ApiError, act, age, api, clockTime, debounced, element, path } from "./api.js";
import { applyTranscriptEvent, loadTranscript } from "./transcript.js";

export const supervisorPage = {
  agents: [],
  selected: null, // {call, legs}

  start() {
    this.refreshCalls = debounced(() => this.loadCalls());
    this.refreshAgents = debounced(() => this.loadAgents());
    this.refreshBacklog = debounced(() => this.loadBacklog());
    this.refreshSelected = debounced(() => this.loadSelected(), 250);
    this.refreshWebhooks = debounced(() => this.loadWebhooks(), 1000);
    // Deliveries publish no events of their own: their lag is read again while events flow, and every 5 s.
    setInterval(() => this.refreshWebhooks(), 5000);
    $("#call-search").addEventListener("submit", (event) => {
      event.preventDefault();
      const query = $("#call-query").value.trim();
      if (query) this.select(query, event.submitter);
    });
    setInterval(() => {
      for (const cell of $$("[data-since]")) cell.textContent = age(cell.dataset.since);
    }, 1000);
  },

  async enter() {
    await Promise.all([this.loadCalls(), this.loadAgents()]);
    await Promise.all([this.loadBacklog(), this.loadWebhooks()]);
    const wanted = new URLSearchParams(location.hash.slice(1)).get("call");
    if (wanted) await this.select(wanted);
  },

  resync(replayed = false) {
    this.refreshCalls();
    this.refreshAgents();
    this.refreshBacklog();
    this.refreshWebhooks();
    if (!this.selected) return;
    this.refreshSelected();
    if (!replayed) loadTranscript($("#cv-transcript"), this.selected.call.id).catch(() => {});
  },

  viewButton(voiceCallId, label) {
    const button = element("button", { type: "button", "aria-label": label }, "View");
    button.addEventListener("click", () => this.select(voiceCallId, button));
    return button;
  },

  async loadCalls() {
    const calls = await api("GET", "/calls");
    const body = $("#live-calls tbody");
    body.replaceChildren(
      ...calls.map((call) => {
        const flags = element("td");
        if (call.isOnHold) flags.append(element("span", { class: "flag hold" }, "On hold"), " ");
        if (call.isRecordingPaused) flags.append(element("span", { class: "flag paused" }, "Recording paused"));
        const caller = call.fromPhoneNumber ?? "unknown";
        return element(
          "tr",
          { dataset: { voiceCallId: call.voiceCallId } },
          element("td", {}, caller),
          element("td", { class: "mono" }, call.vendorCallKey),
          element("td", {}, call.queueName ?? "none"),
          element("td", {}, call.status),
          element("td", {}, call.agent ?? ""),
          element("td", { class: "num", dataset: { since: call.startedAt } }, age(call.startedAt)),
          flags,
          element("td", {}, this.viewButton(call.voiceCallId, `View call from ${caller}`)),
        );
      }),
    );
    $("#live-calls").hidden = calls.length === 0;
    $("#no-live").hidden = calls.length > 0;
  },

  async loadAgents() {
    this.agents = await api("GET", "/agents");
    $("#agents tbody").replaceChildren(
      ...this.agents.map((agent) =>
        element(
          "tr",
          { dataset: { userId: agent.userId } },
          element("td", {}, agent.username, agent.role === "supervisor" ? " (supervisor)" : ""),
          element("td", { class: `presence-${agent.presence}` }, agent.presence),
          element("td", { class: "num" }, `${agent.capacityUsed} / ${agent.capacity}`),
          element("td", { class: "num" }, String(agent.offers)),
          element("td", { class: "num" }, String(agent.openWork)),
        ),
      ),
    );
  },

  async loadWebhooks() {
    const hooks = await api("GET", "/webhooks");
    const waited = (seconds) => {
      if (seconds <= 0) return "none";
      return seconds < 120 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
    };
    $("#webhooks tbody").replaceChildren(
      ...hooks.map((hook) =>
        element(
          "tr",
          { dataset: { subscription: String(hook.id) } },
          element("td", { class: "mono url" }, hook.url),
          element("td", { class: `webhook-${hook.status}`, title: hook.statusReason ?? "" }, hook.status),
          element("td", { class: "num" }, String(hook.lag)),
          element("td", { class: "num" }, waited(hook.oldestUndeliveredAgeSeconds)),
          element("td", { class: "num" }, String(hook.delivered)),
          element("td", { class: "num" }, String(hook.failed)),
          element("td", { class: "num" }, String(hook.retrying)),
          element("td", { class: "num" }, String(hook.deadLettered)),
        ),
      ),
    );
    $("#webhooks").hidden = hooks.length === 0;
    $("#no-webhooks").hidden = hooks.length > 0;
  },

  username(userId) {
    return this.agents.find((agent) => agent.userId === userId)?.username ?? userId;
  },

  async loadBacklog() {
    const [pending, callbacks] = await Promise.all([api("GET", "/pending"), api("GET", "/callbacks")]);
    const queues = new Map();
    for (const psr of pending) {
      const name = psr.queueName ?? (psr.routingType === "SkillsBased" ? "Skills-based" : "Direct to an agent");
      if (!queues.has(name)) queues.set(name, []);
      queues.get(name).push(psr);
    }
    const sections = [...queues].map(([name, psrs]) => {
      const offered = psrs.filter((psr) => psr.offerId).length;
      const stale = psrs.filter((psr) => psr.stale).length;
      const oldest = psrs.map((psr) => psr.createdAt).sort()[0];
      const headingText = `${name}: ${psrs.length - offered} waiting, ${offered} offered${stale ? `, ${stale} stale` : ""}`;
      return element(
        "section",
        { class: "queue", "aria-label": `Queue ${name}` },
        element("h3", {}, headingText, " · oldest ", element("span", { dataset: { since: oldest } }, age(oldest))),
        element(
          "table",
          { class: "grid" },
          element(
            "thead",
            {},
            element(
              "tr",
              {},
              ...["Age", "Call", "Routing", "Flags"].map((text) => element("th", { scope: "col" }, text)),
              element("th", { scope: "col" }, element("span", { class: "visually-hidden" }, "Actions")),
            ),
          ),
          element("tbody", {}, ...psrs.map((psr) => this.backlogRow(psr))),
        ),
      );
    });
    if (callbacks.length) sections.push(this.waitingCallbacks(callbacks));
    $("#backlog").replaceChildren(...sections);
    $("#no-backlog").hidden = pending.length + callbacks.length > 0;
  },

  // Callbacks nothing could route (no callback flow or queue, no original queue): kept, waiting for a person.
  waitingCallbacks(callbacks) {
    const rows = callbacks.map((request) =>
      element(
        "tr",
        { dataset: { contactRequestId: request.id } },
        element("td", { class: "num", dataset: { since: request.createdAt } }, age(request.createdAt)),
        element("td", {}, `${request.callbackNumber} · ${request.vendorCallKey ?? request.voiceCallId}`),
        element("td", {}, element("span", { class: "flag stale" }, "Nothing can route it")),
        element("td", {}, this.viewButton(request.voiceCallId, `View call ${request.vendorCallKey ?? ""}`)),
      ),
    );
    return element(
      "section",
      { class: "queue", "aria-label": "Callbacks waiting" },
      element("h3", {}, `Callbacks waiting: ${callbacks.length} that nothing can route`),
      element(
        "table",
        { class: "grid", id: "waiting-callbacks" },
        element(
          "thead",
          {},
          element(
            "tr",
            {},
            ...["Age", "Callback", "Flags"].map((text) => element("th", { scope: "col" }, text)),
            element("th", { scope: "col" }, element("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        element("tbody", {}, ...rows),
      ),
    );
  },

  backlogRow(psr) {
    const call = `${psr.fromPhoneNumber ?? "unknown"} · ${psr.vendorCallKey ?? psr.workItemId}`;
    const routing = psr.offeredTo ? `offered to ${this.username(psr.offeredTo)}` : "waiting";
    const flags = element("td");
    const actions = element("td", {}, this.viewButton(psr.voiceCallId, `View call ${psr.vendorCallKey ?? ""}`), " ");
    if (psr.stale) {
      flags.append(element("span", { class: "flag stale" }, "Stale: the call ended"));
      const clear = element("button", { type: "button", class: "danger" }, "Clear");
      clear.setAttribute("aria-label", `Clear the stale routing of call ${psr.vendorCallKey ?? psr.workItemId}`);
      clear.addEventListener("click", () =>
        act(clear, async () => {
          await api("POST", `/pending/${path(psr.id)}/clear`);
          await this.loadBacklog();
        }),
      );
      actions.append(clear);
    } else if (psr.callEnded) {
      flags.append(element("span", { class: "flag" }, psr.workItemType === "VoiceCall" ? "Voicemail" : "Callback"));
    }
    return element(
      "tr",
      { dataset: { psrId: psr.id, stale: String(psr.stale) } },
      element("td", { class: "num", dataset: { since: psr.createdAt } }, age(psr.createdAt)),
      element("td", {}, call),
      element("td", {}, routing),
      flags,
      actions,
    );
  },

  async select(idOrKey, button) {
    const error = $("#call-error");
    await act(button, async () => {
      try {
        const call = await api("GET", `/calls/${path(idOrKey)}`);
        error.hidden = true;
        this.selected = { call, legs: new Set(call.legs.map((leg) => leg.id).concat(call.id)) };
        $("#call-query").value = idOrKey;
        history.replaceState(null, "", `#call=${encodeURIComponent(call.id)}`);
        this.showCall(call);
        $("#cv-transcript").replaceChildren();
        $("#call-view").hidden = false;
        await Promise.all([this.loadTimeline(true), loadTranscript($("#cv-transcript"), call.id)]);
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 401) return;
        error.textContent = failure.status === 404 ? `No call '${idOrKey}' in this org.` : failure.message;
        error.hidden = false;
      }
    });
  },

  showCall(call) {
    const caller = call.fromPhoneNumber ?? "an unknown number";
    $("#call-view-title").textContent = `Call from ${caller}`;
    $("#cv-from").textContent = caller;
    $("#cv-queue").textContent = call.queueName ?? "none";
    $("#cv-agent").textContent = call.agent ?? "none";
    const states = [call.isActiveCall ? "Active" : "Ended"];
    if (call.isOnHold) states.push("on hold");
    if (call.isRecordingPaused) states.push("recording paused");
    $("#cv-state").textContent = states.join(", ");
    $("#cv-id").textContent = call.id;
    $("#cv-key").textContent = call.vendorCallKey;
  },

  async loadSelected() {
    if (!this.selected) return;
    const call = await api("GET", `/calls/${path(this.selected.call.id)}`);
    this.selected.call = call;
    this.showCall(call);
    await this.loadTimeline();
  },

  async loadTimeline(fresh = false) {
    const timeline = await api("GET", `/calls/${path(this.selected.call.id)}/timeline`);
    const list = $("#cv-timeline");
    const atEnd = fresh || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    $("#cv-timeline-count").textContent = `(${timeline.entries.length} entries)`;
    list.replaceChildren(...timeline.entries.map((entry) => this.timelineItem(entry)));
    if (atEnd) list.scrollTop = list.scrollHeight; // follow the newest entries unless the reader scrolled up
  },

  timelineItem(entry) {
    const details = [];
    const data = entry.data ?? {};
    for (const key of ["dropReason", "messageId", "psrId", "workId", "userId"]) {
      if (data[key] !== undefined) details.push(`${key} ${data[key]}`);
    }
    return element(
      "li",
      { dataset: { kind: entry.kind, outcome: entry.outcome, entryId: String(entry.id) } },
      element("time", { datetime: entry.occurredAt }, clockTime(entry.occurredAt)),
      " ",
      element("span", { class: "kind" }, entry.kind),
      " ",
      element("span", { class: `outcome outcome-${entry.outcome}` }, entry.outcome),
      entry.reason ? ` ${entry.reason}` : "",
      details.length ? element("span", { class: "details" }, ` [${details.join(", ")}]`) : null,
      element("span", { class: "meta" }, ` · ${entry.actor}${entry.request ? ` · ${entry.request}` : ""}`),
    );
  },

  onEvent(event) {
    this.refreshWebhooks();
    const routingEntry = event.type === "timeline.recorded" && event.kind?.startsWith("routing.");
    if (event.type.startsWith("routing.") || event.type === "queue.backlog" || routingEntry) {
      this.refreshBacklog();
      this.refreshCalls();
      this.refreshAgents();
    } else if (event.type === "agent.presence_changed") {
      this.refreshAgents();
    } else if (event.type === "voice_call.state_changed") {
      this.refreshCalls();
      this.refreshBacklog(); // a call that ends leaves its routing stale
    }
    const selected = this.selected;
    if (!selected) return;
    const concerns =
      (event.conversationId && event.conversationId === selected.call.conversationId) ||
      selected.legs.has(event.voiceCallId);
    if (!concerns) return;
    if (event.type.startsWith("transcript.")) applyTranscriptEvent($("#cv-transcript"), event);
    this.refreshSelected();
  },
};
