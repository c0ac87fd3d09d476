// A call's transcript and signals, shared by both pages: utterances in their place (a newer version replaces
// the text), dropped utterances and why, redactions, the participants' sentiment and the categories.

import { $, $$, api, element, path } from "./api.js";

const SPEAKERS = {
  EndUser: "Customer",
  Agent: "Agent",
  Supervisor: "Supervisor",
  VirtualAgent: "Virtual agent",
  ExternalUser: "External",
};
const DROP_REASONS = {
  on_hold: "the call was on hold",
  recording_paused: "recording was paused",
  before_start: "before the conversation started",
  after_end: "after the conversation ended",
};

function speakerClass(role) {
  if (role === "EndUser") return "from-enduser";
  if (role === "Agent") return "from-agent";
  return "from-other";
}

// Put an utterance in its place: by serverReceivedTimestamp, which a replacement keeps.
function placeUtterance(list, item) {
  const received = Number(item.dataset.received);
  const after = $$("li[data-received]", list).find((other) => Number(other.dataset.received) > received);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.insertBefore(item, after ?? null);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function utteranceItem(list, messageId) {
  return $$("li[data-message-id]", list).find((item) => item.dataset.messageId === messageId) ?? null;
}

// Draw an utterance (accepted, replaced, or read back): a newer version replaces the text in place.
function showUtterance(list, { messageId, role, content, received, version }) {
  let item = utteranceItem(list, messageId);
  if (item && Number(item.dataset.version) > version) return;
  if (!item) {
    item = element(
      "li",
      { class: `utterance ${speakerClass(role)}`, dataset: { messageId, received: String(received) } },
      element("span", { class: "who" }, SPEAKERS[role] ?? role),
      element("span", { class: "text" }),
    );
    placeUtterance(list, item);
  }
  item.dataset.version = String(version);
  item.classList.toggle("revised", version > 1);
  $(".text", item).textContent = content;
}

function showDrop(list, { messageId, role, dropReason }) {
  const key = `${messageId}:dropped`;
  if ($$("li[data-drop]", list).some((item) => item.dataset.drop === key)) return;
  const why = DROP_REASONS[dropReason] ?? dropReason;
  const item = element(
    "li",
    { class: "utterance dropped", dataset: { drop: key, dropReason } },
    `Not transcribed: a ${(SPEAKERS[role] ?? role).toLowerCase()} utterance while ${why} (${dropReason}).`,
  );
  list.append(item);
}

export function applyTranscriptEvent(list, event) {
  const role = event.sender?.role;
  switch (event.type) {
    case "transcript.accepted":
      showUtterance(list, { ...event, role, received: event.serverReceivedTimestamp, version: 1 });
      break;
    case "transcript.replaced":
      showUtterance(list, { ...event, role, received: event.serverReceivedTimestamp, version: event.entryVersion });
      break;
    case "transcript.redacted": {
      const item = utteranceItem(list, event.messageId);
      if (item) $(".text", item).textContent = event.content;
      break;
    }
    case "transcript.dropped":
      showDrop(list, { messageId: event.messageId, role, dropReason: event.dropReason });
      break;
  }
}

// The transcript so far, for a call opened mid-way; live events then keep it current.
export async function loadTranscript(list, voiceCallId) {
  let after = null;
  do {
    const query = `?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ""}`;
    const transcript = await api("GET", `/calls/${path(voiceCallId)}/messages${query}`);
    for (const entry of transcript.entries) {
      const role = entry.sender.role;
      if (entry.status === "dropped") showDrop(list, { messageId: entry.messageId, role, dropReason: entry.dropReason });
      else {
        const received = entry.serverReceivedTimestamp;
        showUtterance(list, { messageId: entry.messageId, role, content: entry.content, received, version: entry.version });
      }
    }
    after = transcript.next;
  } while (after);
}

function sentimentTone(value) {
  const score = Number(value);
  if (Number.isNaN(score)) return ["neutral", String(value)];
  if (score >= 300) return ["positive", `Positive (${score})`];
  if (score <= -300) return ["negative", `Negative (${score})`];
  return ["neutral", `Neutral (${score})`];
}

export function applySignal(panel, event) {
  if (event.signalType === "IntelligenceSignal__Sentiment" && event.participant) {
    const slot = $$(".sentiment", panel).find((dd) => dd.dataset.participant === event.participant);
    if (!slot) return;
    const [tone, text] = sentimentTone(event.value);
    slot.dataset.tone = tone;
    slot.textContent = text;
  } else if (event.signalType === "IntelligenceSignal__Category") {
    const list = $(".categories", panel);
    $(".none", list)?.remove();
    if ($$("li", list).some((item) => item.dataset.category === event.value)) return;
    list.append(element("li", { dataset: { category: event.value } }, event.value));
  }
}
