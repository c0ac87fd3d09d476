-- PATCH /voiceCalls/{vendorCallKey}/omniFlow as executeOmniFlow sends it, each call routed once, the queue
-- chosen by a flow input (some match no rule and fall through to the skills rule). params: prefix, first,
-- queues.
function scenario_init()
  prefix = params.prefix
  first = tonumber(params.first)
  queues = tonumber(params.queues or "50")
end

function request()
  local headers = telephony_headers()
  local n = first + counter - 1
  local body = string.format(
    '{"flowDevName":"Bench_Flow","fallbackQueue":"Q0","dialedNumber":"+18005550100",' ..
    '"flowInputParameters":{"queue":"Q%d","IncomingCallPhoneNumber":"+14155550123"}}',
    n % (queues + 5))
  return wrk.format("PATCH", "/telephony/v1/voiceCalls/" .. prefix .. n .. "/omniFlow", headers, body)
end
