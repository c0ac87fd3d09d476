-- POST /voiceCalls/messages as contactLensProcessor sends it: `entries` calls per request, `per_entry`
-- utterances each (Salesforce's documented limits are 5 x 5). params: prefix, calls_from, calls, entries, per_entry.
function scenario_init()
  prefix = params.prefix
  calls_from = tonumber(params.calls_from)
  calls = tonumber(params.calls)
  entries = tonumber(params.entries or "5")
  per_entry = tonumber(params.per_entry or "5")
end

local senders = {"END_USER", "VIRTUAL_AGENT"}

function request()
  local headers = telephony_headers()
  local n = counter
  local now = os.time() * 1000
  local parts = {}
  for e = 0, entries - 1 do
    local key = prefix .. (calls_from + ((n * entries + e) % calls))
    local messages = {}
    for m = 0, per_entry - 1 do
      local sender = senders[(m % 2) + 1]
      messages[#messages + 1] = string.format(
        '{"messageId":"%s-b%d-%d-%d","startTime":%d,"endTime":%d,' ..
        '"content":"Utterance %d of entry %d: the agent confirms the refund will arrive in five days.",' ..
        '"participantId":"%s","senderType":"%s"}',
        run_id, n, e, m, now - 1500, now, m, e, sender, sender)
    end
    parts[#parts + 1] = string.format('{"vendorCallKey":"%s","messages":[%s]}', key, table.concat(messages, ","))
  end
  local body = '{"entries":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/telephony/v1/voiceCalls/messages", headers, body)
end
