"""Checks of what real clients send that a strict server would refuse: a trailing slash, ``Content-Type:
application/json; utf-8``, the literal body ``null``, no provider header, fields nobody documented, and a
``+`` that arrived as a space (real-clients.md §9)."""

from __future__ import annotations

from callbridge.check.context import CheckContext
from callbridge.check.registry import check, expect, expect_json
from callbridge.check.transcripts import ACCEPTED, message


@check(
    "quirk.trailing_slash",
    "POST /voiceCalls/{key}/messages/ (the Java transcriber's trailing slash) is 200 {result: Accepted}",
)
async def trailing_slash(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("slash")
    body = message(f"{ctx.run_id}-slash", "with a slash").wire()
    response = await ctx.client.raw_request("POST", f"/voiceCalls/{call.vendor_call_key}/messages/", body=body)
    expect_json(response, 200, ACCEPTED)
    return None


@check(
    "quirk.content_type_utf8",
    "Content-Type 'application/json; utf-8' (the Java transcriber's, not charset=) is read as JSON",
)
async def content_type_utf8(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("utf8")
    body = message(f"{ctx.run_id}-utf8", "Grüße, ça va ?").wire()
    response = await ctx.client.raw_request(
        "POST",
        f"/voiceCalls/{call.vendor_call_key}/messages",
        body=body,
        headers={"Content-Type": "application/json; utf-8", "Accept": "application/json"},
    )
    expect_json(response, 200, ACCEPTED)
    return None


@check(
    "quirk.null_body",
    "clearRouting and reroute with the literal body null and no Telephony-Provider-Name (as the Lambdas send) "
    "are not refused as bad bodies",
)
async def null_body(ctx: CheckContext) -> str | None:
    call = await ctx.new_call("null")
    headers = {"Telephony-Provider-Name": ""}
    response = await ctx.client.raw_request(
        "PATCH", f"/voiceCalls/{call.vendor_call_key}/clearRouting", content=b"null", headers=headers
    )
    expect_json(response, 200, {"status": "Success"})
    response = await ctx.client.raw_request(
        "PATCH", f"/voiceCalls/{call.vendor_call_key}/reroute", content=b"null", headers=headers
    )
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    expect(
        response.status_code == 200 or (response.status_code == 409 and body.get("code") == "NOTHING_TO_REROUTE"),
        f"reroute with a null body got {response.status_code} {body or response.text[:120]} "
        "(expected 200, or 409 NOTHING_TO_REROUTE for a call never routed)",
    )
    return None


@check(
    "quirk.undocumented_fields",
    "fields real clients send undocumented (callSubType, callCenterApiName on updates and messages, toNumber, "
    "unknown extras) are accepted",
)
async def undocumented_fields(ctx: CheckContext) -> str | None:
    key = ctx.key("extras")
    body = ctx.create_body(key, callSubType="WebRTC", sfdcVendorExtra={"any": "thing"})
    expect_json(await ctx.client.raw_request("POST", "/voiceCalls", body=body), 200)
    update = {
        "callCenterApiName": ctx.config.call_center_api_name,
        "toNumber": "+14155550100",
        "initiationMethod": "INBOUND",
        "isActiveCall": True,
    }
    expect_json(await ctx.client.raw_request("PATCH", f"/voiceCalls/{key}", body=update), 200)
    utterance = {**message(f"{ctx.run_id}-extra", "hello").wire(), "callCenterApiName": ctx.config.call_center_api_name}
    expect_json(await ctx.client.raw_request("POST", f"/voiceCalls/{key}/messages", body=utterance), 200, ACCEPTED)
    if not await ctx.has_read_api():
        return "answers checked; the stored call was not (no read API)"
    stored = await ctx.client.get_voice_call(key)
    expect(stored.call_subtype == "WebRTC", f"callSubType was not read as callSubtype: {stored.call_subtype!r}")
    return None


@check(
    "quirk.space_for_plus",
    "a phone number whose '+' arrived as a space (' 1415…', the demo connector's unencoded query string) is "
    "stored with its '+'",
)
async def space_for_plus(ctx: CheckContext) -> str | None:
    key = ctx.key("plus")
    body = ctx.create_body(key, **{"from": " 14155550177"})
    body["participants"] = [{"participantKey": " 14155550177", "type": "END_USER"}]
    expect_json(await ctx.client.raw_request("POST", "/voiceCalls", body=body), 200)
    if not await ctx.has_read_api():
        return "the create was accepted; the stored number was not checked (no read API)"
    stored = await ctx.client.get_voice_call(key)
    expect(
        stored.from_phone_number == "+14155550177",
        f"fromPhoneNumber is {stored.from_phone_number!r}, not '+14155550177'",
    )
    return None
