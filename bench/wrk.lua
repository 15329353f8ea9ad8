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

-- WRK_COUNT_CACHE=1: count the answers our response cache gave (`x-minhbach-cache: hit`), per thread.
local threads = {}
setup = function(thread) table.insert(threads, thread) end
if os.getenv("WRK_COUNT_CACHE") == "1" then
  hits, answers = 0, 0
  response = function(status, headers, body)
    answers = answers + 1
    if headers["x-minhbach-cache"] == "hit" or headers["X-Minhbach-Cache"] == "hit" then hits = hits + 1 end
  end
end

done = function(summary, latency, requests)
  local hits, answers = 0, 0
  for _, t in ipairs(threads) do
    hits = hits + (t:get("hits") or 0)
    answers = answers + (t:get("answers") or 0)
  end
  local p50, p90, p99 = 0, 0, 0
  if summary.requests > 0 then
    p50, p90, p99 = latency:percentile(50), latency:percentile(90), latency:percentile(99)
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"cache_hits":%d,"cache_answers":%d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, p50, p90, p99, latency.max, hits, answers))
end
