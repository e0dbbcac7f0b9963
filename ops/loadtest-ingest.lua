-- wrk script for ops/loadtest-ingest: POST /v1/events with INGEST_BATCH new order lines per
-- request. Order ids are <run>-<thread>-<request>-<n>, so every body differs and every line is
-- new. Listings are drawn at random from sku-1..sku-INGEST_ITEMS on the INGEST_CHANNELS.
-- Prints RESULT / STATUS / GENERATOR lines for the calling script to parse.

local batch = tonumber(os.getenv("INGEST_BATCH") or "1000")
local items = tonumber(os.getenv("INGEST_ITEMS") or "100000")
local run = os.getenv("INGEST_RUN") or "run"
local channel_names = {}
for name in (os.getenv("INGEST_CHANNELS") or "shopify"):gmatch("%S+") do
  channel_names[#channel_names + 1] = name
end

wrk.method = "POST"
wrk.path = "/v1/events"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("STOCKYARD_ADMIN_TOKEN") or "")

-- Event text before the listing number, per channel.
local heads = {}
for i, name in ipairs(channel_names) do
  heads[i] = '{"channel":"' .. name .. '","listing_id":"sku-'
end
local channel_count = #channel_names
local mid = '","order_id":"'
local tail = '","line_id":"1","quantity":1,"version":1}'

local random, concat, tostring = math.random, table.concat, tostring
local parts = {}

-- One body of `batch` events whose order ids start with `prefix`.
local function build(prefix)
  local n = 1
  parts[n] = '{"events":['
  for i = 1, batch do
    if i > 1 then n = n + 1; parts[n] = "," end
    parts[n + 1] = heads[random(channel_count)]
    parts[n + 2] = tostring(random(items))
    parts[n + 3] = mid
    parts[n + 4] = prefix
    parts[n + 5] = tostring(i)
    parts[n + 6] = tail
    n = n + 6
  end
  n = n + 1
  parts[n] = "]}"
  return concat(parts, "", 1, n)
end

-- Main thread: hand each worker thread its number.
local threads = {}
function setup(thread)
  thread:set("thread_number", #threads)
  threads[#threads + 1] = thread
end

-- Worker threads. Globals, so that done() can read them with thread:get().
sent, ok, applied, bad_statuses = 0, 0, 0, ""
local statuses = {}

function init(args)
  math.randomseed(1 + (thread_number or 0) * 7919 + os.time())
end

function request()
  sent = sent + 1
  local body = build(run .. "-" .. tostring(thread_number) .. "-" .. tostring(sent) .. "-")
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    applied = applied + (tonumber(body:match('"applied":(%d+)')) or 0)
  else
    statuses[status] = (statuses[status] or 0) + 1
    local text = {}
    for code, count in pairs(statuses) do text[#text + 1] = code .. "=" .. count end
    bad_statuses = concat(text, ",")
  end
end

function done(summary, latency, requests)
  local total_ok, total_applied, bad = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_ok = total_ok + (thread:get("ok") or 0)
    total_applied = total_applied + (thread:get("applied") or 0)
    local text = thread:get("bad_statuses") or ""
    for code, count in text:gmatch("(%d+)=(%d+)") do
      bad[code] = (bad[code] or 0) + tonumber(count)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT duration_us=%d requests=%d ok=%d applied=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.duration, summary.requests, total_ok, total_applied, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  for code, count in pairs(bad) do
    io.write(string.format("STATUS code=%s count=%d\n", code, count))
  end
  -- How fast one wrk thread builds bodies, with the load finished: the generator's ceiling.
  local rounds = 200
  local started = os.clock()
  local bytes = 0
  for r = 1, rounds do bytes = bytes + #build(run .. "-probe-" .. r .. "-") end
  local seconds = os.clock() - started
  io.write(string.format("GENERATOR bodies_per_s=%.0f events_per_s=%.0f body_bytes=%d\n",
    rounds / seconds, rounds * batch / seconds, bytes / rounds))
end
