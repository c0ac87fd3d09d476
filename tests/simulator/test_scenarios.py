"""The simulator's planner: the same seed gives the same calls, utterance for utterance."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources

import yaml

from callbridge.console.passwords import verify_password
from callbridge.demo import AGENT_PASSWORD
from callbridge.simulator.scenarios import Lifecycle, parse_mix, plan_calls
from callbridge.simulator.site import Queue, Site, load_site

SITE = Site(
    org_id="00DXX000000SIMUAAA",
    call_center="SimCC",
    dialed_numbers=("+14155550100", "+14155550200"),
    queues=(Queue("Support", "arn:aws:connect:us-east-1:1:instance/x/queue/q-support"), Queue("Sales")),
    agents=("a@example.com", "b@example.com"),
)


def test_the_same_seed_plans_the_same_calls() -> None:
    """Two plans from one seed are equal: lifecycles, start times, what is said and every messageId."""
    first, second = plan_calls(7, 40, SITE), plan_calls(7, 40, SITE)
    assert first == second
    assert [line.message_id for plan in first for line in plan.all_lines()] == [
        line.message_id for plan in second for line in plan.all_lines()
    ]


def test_another_seed_plans_other_calls() -> None:
    """A different seed gives a different sequence of lifecycles and utterances."""
    assert plan_calls(7, 40, SITE) != plan_calls(8, 40, SITE)


def test_more_calls_extend_the_same_sequence() -> None:
    """The first calls of a longer run are those of a shorter one with the same seed, except for their start
    times, which are fractions of the run and so depend on the number of calls."""
    short, long = plan_calls(3, 5, SITE), plan_calls(3, 10, SITE)
    assert [replace(plan, start=0.0) for plan in long[:5]] == [replace(plan, start=0.0) for plan in short]
    assert [plan.start for plan in long] == sorted(plan.start for plan in long)
    assert all(0 <= plan.start < 1 for plan in long)


def test_message_ids_are_unique_across_the_run() -> None:
    """Every planned utterance has its own messageId (a partial and its final share it when sent)."""
    ids = [line.message_id for plan in plan_calls(11, 60, SITE) for line in plan.all_lines()]
    assert len(ids) == len(set(ids))


def test_the_default_mix_draws_every_lifecycle() -> None:
    """Sixty calls with the default weights include each of the six lifecycles."""
    assert {plan.lifecycle for plan in plan_calls(5, 60, SITE)} == set(Lifecycle)


def test_a_mix_limits_the_lifecycles() -> None:
    """--mix inbound=1,missed=1 plans only those two."""
    plans = plan_calls(5, 30, SITE, parse_mix("inbound=1,missed=1"))
    assert {plan.lifecycle for plan in plans} == {Lifecycle.INBOUND, Lifecycle.MISSED}


def test_each_lifecycle_plans_what_it_needs() -> None:
    """Transfers and consults have a second leg (transfers to a queue), voicemails a message, callbacks a number,
    missed calls nothing after the IVR."""
    for plan in plan_calls(9, 80, SITE):
        second = plan.second_leg
        match plan.lifecycle:
            case Lifecycle.TRANSFER:
                assert second is not None and second.queue in SITE.queues and second.talk
            case Lifecycle.CONSULT:
                assert second is not None and second.queue is None and second.consult and second.talk
            case Lifecycle.VOICEMAIL:
                assert plan.voicemail is not None and not plan.talk
            case Lifecycle.CALLBACK:
                assert plan.callback is not None and not plan.talk
            case Lifecycle.MISSED:
                assert not plan.talk and plan.patience < 2
            case Lifecycle.INBOUND:
                assert plan.talk and second is None and plan.post_call is not None


def test_the_demo_agents_sign_in_with_the_simulators_default_password() -> None:
    """`make run` then `callbridge simulate` needs no password: every demo agent's hash is of AGENT_PASSWORD, and
    the demo has a supervisor to watch the calls with."""
    text = (resources.files("callbridge.demo") / "contact-center.yaml").read_text()
    agents = yaml.safe_load(text)["orgs"][0]["agents"]
    assert agents and all(verify_password(AGENT_PASSWORD, agent["password_hash"]) for agent in agents)
    assert any(agent.get("role") == "supervisor" for agent in agents)


def test_the_site_is_read_from_the_demo_file() -> None:
    """The demo file gives the org, call center, both dialed numbers, the queues and the agents to sign in."""
    with resources.as_file(resources.files("callbridge.demo") / "contact-center.yaml") as path:
        site = load_site(path)
    assert (site.org_id, site.call_center) == ("00D000000000001AAA", "DemoCC")
    assert site.dialed_numbers == ("+14155550100", "+14155550200")
    assert {queue.api_name for queue in site.queues} == {"Support", "Spanish", "Sales"}
    assert "alice@demo.example.com" in site.agents and site.supervisors == ("sam@demo.example.com",)
