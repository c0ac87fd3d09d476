-- POST /voiceCalls as the Amazon Connect Lambda's createVoiceCall sends it; vendorCallKey = <prefix><n>.
-- params: prefix (vendorCallKey prefix), first (first n), start_time (ISO, the calls' startTime).
function scenario_init()
  prefix = params.prefix
  first = tonumber(params.first or "0")
end

function request()
  local headers = telephony_headers()
  local n = first + counter - 1
  local body = string.format(
    '{"callCenterApiName":"BenchCC","vendorCallKey":"%s%d","to":"+18005550100","from":"+14155550123",' ..
    '"initiationMethod":"Inbound","startTime":"%s","callSubtype":"PSTN",' ..
    '"callAttributes":"{\\"Department__c\\":\\"Support\\"}",' ..
    '"participants":[{"participantKey":"+14155550123","type":"END_USER"}]}',
    prefix, n, params.start_time)
  return wrk.format("POST", "/telephony/v1/voiceCalls", headers, body)
end
