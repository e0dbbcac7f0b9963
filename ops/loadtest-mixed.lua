-- wrk script for ops/loadtest-mixed: replays the prepared requests (path, headers, body) of all
-- four channels; thread n sends requests n, n + threads, … in order and starts again from its
-- first once through (a redelivery of the same bodies). done() prints requests/s, latency
-- percentiles, answers by status, and whether every request was sent at least once.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  thread:set("count", 0)
  table.insert(threads, thread)
end

local queue, position

function init(args)
  local file = assert(io.open(os.getenv("LOADTEST_REQUESTS"), "rb"))
  local data = file:read("*a")
  file:close()
  queue, position = {}, 1
  ok, other, answered, covered = 0, 0, 0, 0
  local index, at = 0, 1
  while at <= #data do
    local path_end = data:find("\n", at, true)
    local path = data:sub(at, path_end - 1)
    local count_end = data:find("\n", path_end + 1, true)
    local headers = {}
    at = count_end + 1
    for _ = 1, tonumber(data:sub(path_end + 1, count_end - 1)) do
      local line_end = data:find("\n", at, true)
      local name, value = data:sub(at, line_end - 1):match("^([^:]+): (.*)$")
      headers[name] = value
      at = line_end + 1
    end
    local length_end = data:find("\n", at, true)
    local length = tonumber(data:sub(at, length_end - 1))
    local body = data:sub(length_end + 1, length_end + length)
    at = length_end + length + 1
    if index % counter_total() == id then
      queue[#queue + 1] = wrk.format("POST", path, headers, body)
    end
    index = index + 1
  end
end

function counter_total()
  return tonumber(os.getenv("LOADTEST_THREADS") or "1")
end

function request()
  local next = queue[(position - 1) % #queue + 1]
  position = position + 1
  return next
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
  answered = ok + other
  covered = answered >= #queue and 1 or 0
end

function done(summary, latency, requests)
  local total_ok, total_other, all_covered = 0, 0, true
  for _, thread in ipairs(threads) do
    total_ok = total_ok + (thread:get("ok") or 0)
    total_other = total_other + (thread:get("other") or 0)
    if thread:get("covered") ~= 1 then all_covered = false end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT requests_per_s=%.1f requests=%d ok=%d non200=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f seconds=%.2f\n",
    summary.requests / seconds, summary.requests, total_ok, total_other + summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, seconds))
  io.write(string.format("COVERAGE every_request_answered=%s\n", all_covered and "yes" or "no"))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
