-- wrk script for ops/loadtest-webhooks: sends the signed Shopify deliveries that
-- ops/loadtest_bodies.py wrote (LOADTEST_REQUESTS), each exactly once, counts the answers by
-- status, delivery result and line result, and prints RESULT / STATUS / DELIVERIES / LINES lines
-- for the calling script.
--
-- Sharing the file: every delivery carries its order's index, and wrk thread t of T
-- (LOADTEST_THREADS, which must equal wrk's -t) takes the orders with index % T == t. All the
-- deliveries of one order (creation, update, redeliveries) thus go through one thread, in file
-- order: a thread's connections take the next delivery as each becomes free, so a delivery is
-- never sent before an earlier one of its stream. Up to connections / T are in flight at once;
-- the generator puts a reordered update hundreds of positions before its creation, so it has
-- been answered by the time the creation goes out.
--
-- Sending once: wrk asks for requests for the whole -d duration, but the stock check needs to
-- know exactly what was delivered, and repeating deliveries would also change the mix being
-- measured. So a thread that has handed out its whole stream answers further calls with an
-- empty request (nothing is written; the connection idles), and stops its loop when the last
-- answer arrives. wrk 4.1's main thread still sleeps for -d, so the last thread to finish sends
-- SIGINT to its own process, which wrk handles by ending the run; wrk's time and requests/s
-- then cover the sending, and -d is only an upper bound. If -d runs out first, or an answer is
-- lost to a socket error, RESULT says complete=0 and the stock cannot be checked.
--
-- Starting together: wrk starts each thread as soon as its init() is done, while the next one
-- is still reading its share of the file, and starts its clock after the last. So each thread
-- holds its first request until every thread has loaded.

local ffi = require("ffi")
ffi.cdef [[
  typedef unsigned long pthread_t;
  pthread_t pthread_self(void);
  int getpid(void);
  int kill(int pid, int sig);
  int usleep(unsigned int usec);
]]
local SIGINT = 2

-- Headers every delivery carries; the per-delivery ones come from the requests file.
local shop = os.getenv("LOADTEST_SHOP") or "loadtest.myshopify.com"
local api_version = os.getenv("LOADTEST_API_VERSION") or "2026-07"

-- Threads that have loaded their deliveries, and threads that have had all their answers, are
-- counted across threads (each has its own Lua state) as bytes appended to two small files.
local function tally_path(what)
  return assert(os.getenv("LOADTEST_REQUESTS"), "LOADTEST_REQUESTS is not set") .. "." .. ffi.C.getpid() .. "." .. what
end

local function tally_add(what)
  local file = assert(io.open(tally_path(what), "ab"))
  file:write("x")
  file:close()
end

local function tally(what)
  local file = assert(io.open(tally_path(what), "rb"))
  local count = file:seek("end")
  file:close()
  return count
end

-- Main state: number the threads, and start both tallies at zero.
local threads = {}
function setup(thread)
  if #threads == 0 then
    assert(io.open(tally_path("loaded"), "wb")):close()
    assert(io.open(tally_path("finished"), "wb")):close()
  end
  thread:set("index", #threads)
  threads[#threads + 1] = thread
end

-- Thread state. Globals, so that done() can read them with thread:get().
stream_size, sent, answered, complete = 0, 0, 0, false
statuses, deliveries, results = {}, {}, {}
local stream, cursor, started = {}, 1, false
local init_thread, check_request, thread_count

-- Reads this thread's deliveries from the requests file into ready-made HTTP requests.
local function load(path, index, count)
  local file = assert(io.open(path, "rb"))
  local by_entry, entry = {}, 0
  while true do
    local line = file:read("*l")
    if not line then break end
    local kind = line:sub(1, 1)
    if kind == "B" then
      local order, topic, webhook_id, event_id, hmac, triggered_at, length =
        line:match("^B (%d+) (%S+) (%S+) (%S+) (%S+) (%S+) (%d+)$")
      assert(order, "bad line in the requests file: " .. line:sub(1, 80))
      entry = entry + 1
      length = tonumber(length)
      if tonumber(order) % count == index then
        local body = file:read(length)
        assert(body and #body == length and file:read(1) == "\n", "requests file truncated")
        local request = wrk.format("POST", nil, {
          ["Content-Type"] = "application/json",
          ["User-Agent"] = "Shopify-Captain-Hook",
          ["X-Shopify-Topic"] = topic,
          ["X-Shopify-Hmac-Sha256"] = hmac,
          ["X-Shopify-Shop-Domain"] = shop,
          ["X-Shopify-API-Version"] = api_version,
          ["X-Shopify-Webhook-Id"] = webhook_id,
          ["X-Shopify-Event-Id"] = event_id,
          ["X-Shopify-Triggered-At"] = triggered_at,
        }, body)
        by_entry[entry] = request
        stream[#stream + 1] = request
      else
        file:seek("cur", length + 1)
      end
    elseif kind == "R" then
      local order, original = line:match("^R (%d+) (%d+)$")
      assert(order, "bad line in the requests file: " .. line:sub(1, 80))
      if tonumber(order) % count == index then
        -- A redelivery: the very same request text as the delivery it repeats.
        stream[#stream + 1] = assert(by_entry[tonumber(original)], "redelivery before its delivery")
      end
    end -- "#" lines are comments
  end
  file:close()
end

function init(args)
  thread_count = tonumber(os.getenv("LOADTEST_THREADS") or "")
  assert(thread_count and index < thread_count, "LOADTEST_THREADS must be wrk's -t")
  load(assert(os.getenv("LOADTEST_REQUESTS"), "LOADTEST_REQUESTS is not set"), index, thread_count)
  stream_size = #stream
  -- wrk calls request() once right after init() to check the script, from its main thread,
  -- and sends nothing of it: that call must not use up a delivery.
  init_thread = ffi.C.pthread_self()
  check_request = stream[1] or wrk.format("POST", nil, nil, "{}")
  tally_add("loaded")
end

-- This thread's stream is answered: stop it, and end the run if it is the last one.
local function finish()
  complete = true
  tally_add("finished")
  if tally("finished") >= thread_count then ffi.C.kill(ffi.C.getpid(), SIGINT) end
  wrk.thread:stop()
end

function request()
  if ffi.C.pthread_self() == init_thread then return check_request end
  if not started then
    -- Once per thread, before its first delivery: wait (at most a minute) for the others to load.
    for _ = 1, 60000 do
      if tally("loaded") >= thread_count then break end
      ffi.C.usleep(1000)
    end
    started = true
  end
  if cursor > stream_size then
    if answered >= stream_size and not complete then finish() end
    return ""
  end
  local request = stream[cursor]
  cursor = cursor + 1
  sent = sent + 1
  return request
end

-- Answers: {"delivery":"applied"|"duplicate", ..., "counts":{"applied":n,...}} from the service,
-- {} from the bare endpoint.
function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 and body then
    local delivery = body:match('"delivery"%s*:%s*"(%w+)"')
    if delivery then deliveries[delivery] = (deliveries[delivery] or 0) + 1 end
    local counts = body:match('"counts"%s*:%s*(%b{})')
    if counts then
      for name, count in counts:gmatch('"([%w_]+)"%s*:%s*(%d+)') do
        results[name] = (results[name] or 0) + tonumber(count)
      end
    end
  end
  if answered >= stream_size and cursor > stream_size and not complete then finish() end
end

local function add_into(total, part)
  for name, count in pairs(part or {}) do total[name] = (total[name] or 0) + count end
end

local function listing(counts)
  local names = {}
  for name in pairs(counts) do names[#names + 1] = tostring(name) end
  table.sort(names)
  local text = {}
  for i, name in ipairs(names) do text[i] = name .. "=" .. (counts[name] or counts[tonumber(name)]) end
  return table.concat(text, " ")
end

function done(summary, latency, requests)
  local all_complete, total = true, { stream_size = 0, sent = 0, answered = 0 }
  local all_statuses, all_deliveries, all_results = {}, {}, {}
  for _, thread in ipairs(threads) do
    all_complete = all_complete and thread:get("complete")
    for name in pairs(total) do total[name] = total[name] + thread:get(name) end
    add_into(all_statuses, thread:get("statuses"))
    add_into(all_deliveries, thread:get("deliveries"))
    add_into(all_results, thread:get("results"))
  end
  os.remove(tally_path("loaded"))
  os.remove(tally_path("finished"))
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT complete=%d deliveries=%d sent=%d answered=%d seconds=%.3f requests_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    all_complete and 1 or 0, total.stream_size, total.sent, total.answered, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.connect, errors.read, errors.write, errors.timeout))
  io.write("STATUS " .. listing(all_statuses) .. "\n")
  io.write("DELIVERIES " .. listing(all_deliveries) .. "\n")
  io.write("LINES " .. listing(all_results) .. "\n")
end
