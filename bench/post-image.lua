-- wrk script: POST the PNGs listed (one path a line) in $DIGITS_BENCH_IMAGES as raw image/png
-- bodies, in turn: different images each time, so no cache between requests flatters the server.
local bodies = {}
for path in io.lines(os.getenv("DIGITS_BENCH_IMAGES")) do
  local file = assert(io.open(path, "rb"))
  bodies[#bodies + 1] = file:read("*a")
  file:close()
end
assert(#bodies > 0, "DIGITS_BENCH_IMAGES lists no image")
local next_body = 0

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "image/png"}, bodies[next_body])
end

local bad = 0
function response(status, headers, body)
  if status ~= 200 or not body:find('"success":true', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("non-2xx or failed answers seen by the last thread: %d\n", bad))
end
