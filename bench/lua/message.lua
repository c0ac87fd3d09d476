-- POST /voiceCalls/{vendorCallKey}/messages, one utterance each, to `calls` open calls in turn, the customer
-- and the virtual agent alternating. params: prefix, calls_from (the first call's number), calls.
function scenario_init()
  prefix = params.prefix
  calls_from = tonumber(params.calls_from)
  calls = tonumber(params.calls)
end

local senders = {"END_USER", "VIRTUAL_AGENT"}

function request()
  local headers = telephony_headers()
  local n = counter
  local key = prefix .. (calls_from + (n % calls))
  local sender = senders[(n % 2) + 1]
  local now = os.time() * 1000
  local body = string.format(
    '{"messageId":"%s-m%d","startTime":%d,"endTime":%d,' ..
    '"content":"Utterance %d: I would like to know why my last invoice is higher than usual.",' ..
    '"participantId":"%s","senderType":"%s"}',
    run_id, n, now - 1500, now, n, sender, sender)
  return wrk.format("POST", "/telephony/v1/voiceCalls/" .. key .. "/messages", headers, body)
end
