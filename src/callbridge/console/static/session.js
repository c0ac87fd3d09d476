// Who is signed in: the sign-in form, sign-out, the identity in the header, and the push stream of the session.

import { $, api, whenSessionEnds } from "./api.js";

// The signed-in agent and the session's stream; console.js sets them as it enters a page.
export let me = null;
export let stream = null;

export function setMe(agent) {
  me = agent;
}

export function setStream(pushStream) {
  stream = pushStream;
}

export function showSignIn(message) {
  $("#app")?.setAttribute("hidden", "");
  $("#identity").hidden = true;
  const section = $("#sign-in");
  if (!section) {
    location.reload();
    return;
  }
  section.hidden = false;
  const error = $("#sign-in-error");
  error.textContent = message ?? "";
  error.hidden = !message;
  $("#username").focus();
}

function signedOut(message) {
  if (me === null) return;
  me = null;
  stream?.stop();
  stream = null;
  showSignIn(message);
}

whenSessionEnds(signedOut);

export function wireSignIn(enter) {
  $("#sign-in-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const fields = new FormData(form);
    const body = { username: fields.get("username").trim(), password: fields.get("password") };
    const orgId = fields.get("orgId").trim();
    if (orgId) body.orgId = orgId;
    const error = $("#sign-in-error");
    if (!body.username || !body.password) {
      error.textContent = "Give your username and password.";
      error.hidden = false;
      return;
    }
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      const session = await api("POST", "/session", body);
      form.reset();
      error.hidden = true;
      await enter(session.agent);
      $("#main").focus();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $("#sign-out").addEventListener("click", async () => {
    stream?.stop();
    try {
      await api("DELETE", "/session");
    } finally {
      location.reload();
    }
  });
}

export function showIdentity(agent) {
  $("#whoami").textContent = agent.username;
  $("#role").textContent = agent.role;
  $("#identity").hidden = false;
}
