// The agent console (/console): presence, offers with their countdowns, and each accepted call with its
// transcript, signals and controls.

import { $, $$, act, api, debounced, element, notice, path } from "./api.js";
import { me } from "./session.js";
import { applySignal, applyTranscriptEvent, loadTranscript } from "./transcript.js";

export const agentPage = {
  offers: new Map(), // offer id -> {offer, item}
  calls: new Map(), // voiceCallId -> {work, call, panel}
  orphans: [], // events of a call whose panel is still being opened

  start() {
    for (const button of $$("[data-presence]")) {
      button.addEventListener("click", () =>
        act(button, async () => this.showPresence(await api("PUT", "/presence", { status: button.dataset.presence }))),
      );
    }
    this.refreshOffers = debounced(() => this.loadOffers(), 50);
    this.refreshWork = debounced(() => this.loadWork(), 50);
    setInterval(() => this.tick(), 250);
  },

  async enter(agent) {
    this.showPresence(agent);
    await Promise.all([this.loadOffers(), this.loadWork()]);
  },

  // After (re)connecting: read the state again; without a replay, also the transcripts of open calls.
  resync(replayed = false) {
    this.refreshOffers();
    this.refreshWork();
    api("GET", "/me").then((agent) => this.showPresence(agent), () => {});
    if (replayed) return;
    for (const { call, panel } of this.calls.values()) {
      loadTranscript($(".transcript", panel), call.id).catch(() => {});
    }
  },

  showPresence(agent) {
    for (const button of $$("[data-presence]")) {
      button.setAttribute("aria-pressed", String(button.dataset.presence === agent.presence));
    }
    $("#presence-now").textContent = `${agent.presence}: ${agent.capacityUsed} of ${agent.capacity} capacity in use`;
  },

  async loadOffers() {
    const offers = await api("GET", "/offers");
    const standing = new Set(offers.map((offer) => offer.id));
    for (const [id, { item }] of this.offers) {
      if (!standing.has(id)) {
        item.remove();
        this.offers.delete(id);
      }
    }
    for (const offer of offers) {
      if (!this.offers.has(offer.id)) this.addOffer(offer);
    }
    $("#no-offer").hidden = this.offers.size > 0;
  },

  addOffer(offer) {
    const item = $("#offer-template").content.firstElementChild.cloneNode(true);
    item.dataset.offerId = offer.id;
    const what = offer.workItemType === "ContactRequest" ? "Callback to" : "Call from";
    const summaryId = `offer-${offer.id}`;
    const summary = $(".offer-what", item);
    summary.id = summaryId;
    $(".offer-from", item).textContent = `${what} ${offer.callbackNumber ?? offer.fromPhoneNumber ?? "an unknown number"}`;
    $(".offer-queue", item).textContent = offer.queue ? `in queue ${offer.queue}` : `(${offer.routingType})`;
    const accept = $("[data-action=accept]", item);
    const decline = $("[data-action=decline]", item);
    for (const button of [accept, decline]) button.setAttribute("aria-describedby", summaryId);
    accept.addEventListener("click", () =>
      act(accept, async () => {
        decline.disabled = true;
        try {
          await api("POST", `/offers/${path(offer.id)}/accept`);
          await this.loadWork();
          // The button is gone with the offer: keyboard focus goes to the call it became.
          $(".call-title", this.calls.get(offer.voiceCallId)?.panel ?? document)?.focus();
        } finally {
          await this.loadOffers();
        }
      }),
    );
    decline.addEventListener("click", () =>
      act(decline, async () => {
        try {
          await api("POST", `/offers/${path(offer.id)}/decline`);
        } finally {
          await this.loadOffers();
          $("#offers-heading").focus();
        }
      }),
    );
    this.offers.set(offer.id, { offer, item });
    $("#offers").append(item);
    this.tick();
  },

  // The offers' countdowns to their push timeout.
  tick() {
    for (const { offer, item } of this.offers.values()) {
      const countdown = $(".offer-countdown", item);
      if (!offer.expiresAt) {
        countdown.textContent = "Does not expire";
        continue;
      }
      const left = Math.ceil((Date.parse(offer.expiresAt) - Date.now()) / 1000);
      if (left > 0) {
        countdown.textContent = `Expires in ${left} s`;
      } else if (item.dataset.expired !== "true") {
        item.dataset.expired = "true";
        countdown.textContent = "Expired";
        $("[data-action=accept]", item).disabled = true;
        setTimeout(this.refreshOffers, 1500);
      }
    }
  },

  async loadWork() {
    const works = (await api("GET", "/work")).filter((work) => work.userId === me?.userId);
    const open = new Set(works.map((work) => work.voiceCallId));
    for (const [voiceCallId, { panel }] of this.calls) {
      if (!open.has(voiceCallId)) {
        panel.remove();
        this.calls.delete(voiceCallId);
      }
    }
    for (const work of works) {
      if (!this.calls.has(work.voiceCallId)) await this.openCall(work);
    }
    $("#no-call").hidden = this.calls.size > 0;
  },

  async openCall(work) {
    const call = await api("GET", `/calls/${path(work.voiceCallId)}`);
    if (this.calls.has(work.voiceCallId)) return;
    const panel = $("#call-template").content.firstElementChild.cloneNode(true);
    panel.dataset.voiceCallId = call.id;
    const caller = call.fromPhoneNumber ?? "an unknown number";
    panel.setAttribute("aria-label", `Call from ${caller}`);
    $(".call-title", panel).textContent = `Call from ${caller}`;
    $(".call-from", panel).textContent = caller;
    $(".call-queue", panel).textContent = call.queueName ?? "none";
    $(".call-id", panel).textContent = call.id;
    $(".call-key", panel).textContent = call.vendorCallKey;
    const attributes = $(".call-attributes", panel);
    const entries = Object.entries(call.callAttributes ?? {});
    if (entries.length === 0) attributes.append(element("div", {}, element("dt", {}, "None"), element("dd", {}, "")));
    for (const [name, value] of entries) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      attributes.append(element("div", {}, element("dt", {}, name), element("dd", {}, text)));
    }
    const entry = { work, call, panel, legs: new Set(call.legs.map((leg) => leg.id).concat(call.id)) };
    this.showCallState(entry);
    $("[data-action=hold]", panel).addEventListener("click", (event) =>
      act(event.currentTarget, () => this.control(entry, entry.call.isOnHold ? "resume" : "hold")),
    );
    $("[data-action=recording]", panel).addEventListener("click", (event) =>
      act(event.currentTarget, () =>
        this.control(entry, entry.call.isRecordingPaused ? "resume-recording" : "pause-recording"),
      ),
    );
    $("[data-action=close]", panel).addEventListener("click", (event) =>
      act(event.currentTarget, async () => {
        await api("POST", `/work/${path(work.id)}/close`);
        await this.loadWork();
        $("#calls-heading").focus();
      }),
    );
    this.calls.set(call.id, entry);
    $("#calls").append(panel);
    this.showDrops(entry).catch((error) => notice(error.message));
    $("#no-call").hidden = true;
    const waiting = this.orphans.filter((event) => this.concerns(entry, event));
    this.orphans = this.orphans.filter((event) => !waiting.includes(event));
    await loadTranscript($(".transcript", panel), call.id).catch((error) => notice(error.message));
    for (const event of waiting) this.onCallEvent(entry, event);
  },

  // The call center's voicemail drops: the agent picks the one the telephony side plays (voicemailDrop).
  async showDrops(entry) {
    const choice = await api("GET", `/calls/${path(entry.call.id)}/voicemail-drop`);
    const box = $(".voicemail-drop", entry.panel);
    const select = $(".drop-select", box);
    if (choice.drops.length === 0) return;
    for (const drop of choice.drops) select.append(element("option", { value: drop.name }, drop.name));
    this.showPick(box, choice);
    select.addEventListener("change", () =>
      act(select, async () => {
        const name = select.value === "" ? null : select.value;
        this.showPick(box, await api("PUT", `/calls/${path(entry.call.id)}/voicemail-drop`, { name }));
      }),
    );
    box.hidden = false;
  },

  showPick(box, choice) {
    const select = $(".drop-select", box);
    select.value = choice.picked ?? "";
    for (const option of select.options) {
      const picked = option.value !== "" && option.value === choice.picked;
      option.textContent = picked ? `${option.value} (picked)` : option.value || "None";
    }
    $(".drop-picked", box).textContent = choice.picked ? `Picked: ${choice.picked}` : "No drop picked.";
  },

  async control(entry, action) {
    const state = await api("POST", `/calls/${path(entry.call.id)}/${action}`);
    Object.assign(entry.call, { isOnHold: state.isOnHold, isRecordingPaused: state.isRecordingPaused });
    this.showCallState(entry);
  },

  showCallState({ call, panel }) {
    const states = [];
    if (!call.isActiveCall) states.push("Ended");
    if (call.isOnHold) states.push("On hold");
    if (call.isRecordingPaused) states.push("Recording paused");
    $(".call-state", panel).textContent = states.length ? states.join(", ") : "Connected";
    $("[data-action=hold]", panel).textContent = call.isOnHold ? "Resume call" : "Hold";
    $("[data-action=recording]", panel).textContent = call.isRecordingPaused ? "Resume recording" : "Pause recording";
  },

  concerns(entry, event) {
    return (
      (event.conversationId && event.conversationId === entry.call.conversationId) || entry.legs.has(event.voiceCallId)
    );
  },

  onCallEvent(entry, event) {
    if (event.type.startsWith("transcript.")) applyTranscriptEvent($(".transcript", entry.panel), event);
    else if (event.type === "intelligence.signal") applySignal(entry.panel, event);
    else if (event.type === "voice_call.state_changed") {
      Object.assign(entry.call, {
        isOnHold: event.isOnHold,
        isRecordingPaused: event.isRecordingPaused,
        isActiveCall: event.isActiveCall,
      });
      this.showCallState(entry);
    }
  },

  onEvent(event) {
    const mine = event.userId === undefined || event.userId === me?.userId;
    switch (event.type) {
      case "routing.offered":
        if (mine) this.refreshOffers();
        return;
      case "routing.offer_ended":
        if (mine) this.refreshOffers();
        // A withdrawn offer says why (the caller hung up, clearRouting, a reroute) instead of just vanishing.
        if (mine && event.outcome === "withdrawn" && event.reason) notice(`Offer withdrawn: ${event.reason}`);
        if (mine && event.outcome === "accepted") this.refreshWork();
        return;
      case "routing.work_closed":
        if (mine) this.refreshWork();
        return;
      case "agent.presence_changed":
        if (event.userId === me?.userId) this.showPresence(event);
        return;
    }
    if (!/^(transcript\.|intelligence\.signal$|voice_call\.state_changed$)/.test(event.type)) return;
    const entry = [...this.calls.values()].find((candidate) => this.concerns(candidate, event));
    if (entry) this.onCallEvent(entry, event);
    else this.orphans = [...this.orphans.slice(-499), event];
  },
};
