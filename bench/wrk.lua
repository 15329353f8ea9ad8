-- wrk script: optional random paths (one per line in the file named by WRK_PATHS), and a one-line JSON
-- summary at the end (latencies in microseconds) that bench/serve.py parses.
local paths = {}
local name = os.getenv("WRK_PATHS")
if name and name ~= "" then
  local f = io.open(name, "r")
  if f then
    for line in f:lines() do
      if line ~= "" then table.insert(paths, line) end
    end
    f:close()
  end
end

-- A different sequence every run (WRK_SEED), so that a response cache sees new rows each time.
math.randomseed(tonumber(os.getenv("WRK_SEED") or "") or os.time())

if #paths > 0 then
  request = function()
    return wrk.format("GET", paths[math.random(#paths)])
  end
end

done = function(summary, latency, requests)
  local p50, p90, p99 = 0, 0, 0
  if summary.requests > 0 then
    p50, p90, p99 = latency:percentile(50), latency:percentile(90), latency:percentile(99)
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, p50, p90, p99, latency.max))
end
