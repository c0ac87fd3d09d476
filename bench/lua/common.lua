-- Shared by every wrk scenario (the harness prepends it to the scenario's script).
-- Arguments after "--" are key=value pairs: tokens=FILE (one token per line), start=N (first token to use),
-- run=ID (makes ids unique across runs), and whatever the scenario reads from `params`.
-- Each request takes the next token of the pool; `repeats` counts requests that had to reuse one (the
-- harness reports it: a repeated token could be served from the server's verified-token cache).

params = {}
tokens = {}
counter = 0
repeats = 0

function init(args)
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([^=]+)=(.*)$")
    if key then params[key] = value end
  end
  if params.tokens then
    local skip = tonumber(params.start or "1") - 1
    local n = 0
    for line in io.lines(params.tokens) do
      n = n + 1
      if n > skip and #line > 0 then tokens[#tokens + 1] = line end
    end
  end
  run_id = params.run or "r"
  if scenario_init then scenario_init() end
end

function next_token()
  counter = counter + 1
  if #tokens == 0 then return "" end
  if counter > #tokens then repeats = repeats + 1 end
  return tokens[((counter - 1) % #tokens) + 1]
end

function telephony_headers()
  return {
    ["Authorization"] = "Bearer " .. next_token(),
    ["Content-Type"] = "application/json",
    ["Telephony-Provider-Name"] = "amazon-connect",
  }
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local used, repeated = 0, 0
  for _, thread in ipairs(threads) do
    used = used + (thread:get("counter") or 0)
    repeated = repeated + (thread:get("repeats") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"tokens_used":%d,"token_repeats":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    used, repeated))
end
