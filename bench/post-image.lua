-- wrk script: POST the image named by $DIGITS_BENCH_IMAGE as a raw image/png body.
local file = assert(io.open(os.getenv("DIGITS_BENCH_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "image/png"

local bad = 0
function response(status, headers, body)
  if status ~= 200 or not body:find('"success":true', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("non-2xx or failed answers seen by the last thread: %d\n", bad))
end
