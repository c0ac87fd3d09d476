-- The yardstick: GET /healthz (no auth, no database), the same server process as the real paths.
function request()
  counter = counter + 1
  return wrk.format("GET", "/healthz")
end
