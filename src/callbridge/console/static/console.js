// Callbridge console: the agent console (/console) and the supervisor view (/console/supervisor).
// ES modules, no build step; this one is the entry point, which picks the page. State comes from the console API
// (/console/v1; the session is the HttpOnly cookie callbridge_session that sign-in sets) and live changes from the
// WebSocket /console/v1/stream: transcripts and signals are drawn from its events, anything else makes the page
// read the API again.
//
//   api.js         the API (fetch, ApiError), notices, actions from buttons, DOM helpers
//   stream.js      the push stream: resume after the last id, reconnect with backoff
//   transcript.js  utterances, drops, redactions, sentiment and categories
//   session.js     sign in and out, the identity in the header, the signed-in agent and its stream
//   agent.js       the agent console
//   supervisor.js  the supervisor view

import { $, ApiError, api, notice } from "./api.js";
import { agentPage } from "./agent.js";
import { me, setMe, setStream, showIdentity, showSignIn, stream, wireSignIn } from "./session.js";
import { Stream } from "./stream.js";
import { supervisorPage } from "./supervisor.js";

const page = document.body.dataset.page;

const pages = { agent: agentPage, supervisor: supervisorPage };

async function enter(agent) {
  setMe(agent);
  showIdentity(agent);
  $("#sign-in")?.setAttribute("hidden", "");
  const view = pages[page];
  if (!view) return;
  if (page === "supervisor" && agent.role !== "supervisor") {
    $("#denied-text").textContent =
      `You are signed in as ${agent.username}, whose role is ${agent.role}: the supervisor view shows every agent, ` +
      "call and pending routing of the org, so only supervisors may open it.";
    $("#denied").hidden = false;
    return;
  }
  $("#app").hidden = false;
  setStream(
    new Stream(
      (event) => view.onEvent(event),
      (hello) => view.resync(hello.resumedAfter !== null && hello.resumedAfter !== undefined),
    ),
  );
  stream.open();
  try {
    await view.enter(agent);
  } catch (error) {
    notice(error.message);
  }
}

async function main() {
  wireSignIn(enter);
  const view = pages[page];
  view?.start();
  // While the stream is down, read the state now and then so that the page does not go stale.
  setInterval(() => {
    if (me && view && stream && !stream.live) view.resync();
  }, 5000);
  try {
    await enter(await api("GET", "/me"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn();
    else notice(error.message);
  }
}

main();
