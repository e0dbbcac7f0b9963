-- wrk script for ops/loadtest: signed Shopify orders/* webhooks built from Shopify's sample body.
--
-- Each wrk thread makes its own orders (distinct order and line ids; every line on one of
-- LOADTEST_VARIANTS variants) and signs each body with HMAC-SHA256 through OpenSSL's libcrypto
-- (LuaJIT FFI), as Shopify does. 30% of the requests are redeliveries of a recent delivery (same
-- body, same X-Shopify-Webhook-Id); every 20th order also gets an orders/updated that takes its
-- first line to 0 units, and every 40th sends that update before the creation (reordering).
-- Each thread counts the units its sent deliveries leave held per variant; done() writes the
-- totals to LOADTEST_EXPECTED for the stock check.
--
-- Answers are read only with LOADTEST_CHECK_ANSWERS=1 (then done() prints them by status and
-- result). wrk shares the machine with the server under test, and reading an answer in Lua costs
-- wrk CPU for every service answer but next to nothing for the bare endpoint's empty ones; the
-- service's own counters give the results by kind either way. wrk counts other statuses itself.
--
-- With LOADTEST_RATE set (requests/s over all LOADTEST_THREADS threads), requests leave on a
-- schedule instead of as fast as answers come back: each thread draws send times with exponential
-- gaps (Poisson arrivals, as webhooks from many shops arrive) and a connection that is free waits
-- for the next one. Latency is then measured at that load rather than at saturation.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct evp_md_st EVP_MD;
  const EVP_MD *EVP_sha256(void);
  unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                      const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
]]
-- libcrypto.so comes with libssl-dev; the library itself (libssl3) is there wherever curl is.
local found, crypto = pcall(ffi.load, "crypto")
if not found then crypto = ffi.load("libcrypto.so.3") end

local pace_rate = tonumber(os.getenv("LOADTEST_RATE") or "0")
if pace_rate > 0 then
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } loadtest_timespec;
    int clock_gettime(int clock, loadtest_timespec *now);
  ]]
  local now_spec = ffi.new("loadtest_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, now_spec)  -- CLOCK_MONOTONIC
    return tonumber(now_spec.tv_sec) * 1000 + tonumber(now_spec.tv_nsec) / 1e6
  end
  local mean_gap_ms = 1000 * tonumber(os.getenv("LOADTEST_THREADS") or "1") / pace_rate
  local due
  -- wrk asks before each request how many milliseconds to wait: the time left to the next send
  -- time of this thread's schedule (none when the schedule is behind).
  function delay()
    local now = now_ms()
    due = math.max(due or now, now - 1000) + -math.log(1 - math.random()) * mean_gap_ms
    return math.max(0, math.floor(due - now + 0.5))
  end
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  thread:set("thread_count", 0)
  counter = counter + 1
  table.insert(threads, thread)
end

local secret, template, variants, base64chars, round
local mac, mac_length = ffi.new("unsigned char[32]"), ffi.new("unsigned int[1]")
-- Ids above 2^53 as Shopify's are, built as text (Lua numbers are doubles).
local order_base = "50000000"      -- order ids: 50000000 followed by 11 digits
local line_base = "6000000"        -- line ids: 6000000 followed by 11 digits and the line number
local variant_base = "7000000000000"  -- variant ids: 7000000000000 followed by 6 digits

local function base64(bytes, length)
  local out, i = {}, 0
  while i < length do
    local a, b, c = bytes[i], (i + 1 < length) and bytes[i + 1] or 0, (i + 2 < length) and bytes[i + 2] or 0
    local n = a * 65536 + b * 256 + c
    local c1, c2, c3, c4 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64, math.floor(n / 64) % 64, n % 64
    out[#out + 1] = base64chars:sub(c1 + 1, c1 + 1) .. base64chars:sub(c2 + 1, c2 + 1)
      .. ((i + 1 < length) and base64chars:sub(c3 + 1, c3 + 1) or "=")
      .. ((i + 2 < length) and base64chars:sub(c4 + 1, c4 + 1) or "=")
    i = i + 3
  end
  return table.concat(out)
end

local function sign(body)
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, body, #body, mac, mac_length)
  return base64(mac, 32)
end

function init(args)
  secret = os.getenv("LOADTEST_SECRET")
  variants = tonumber(os.getenv("LOADTEST_VARIANTS") or "1000")
  round = tonumber(os.getenv("LOADTEST_ROUND") or "0")
  base64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local file = assert(io.open(os.getenv("LOADTEST_FIXTURE"), "rb"))
  local text = file:read("*a")
  file:close()
  -- Placeholders where each order differs from the sample.
  text = text:gsub("820982911946154508", "{ORDER}")
  for index, line in ipairs({ "487817672276298554", "789012345678901234", "890123456789012345",
                              "976318377106520349", "315789986012684393" }) do
    text = text:gsub(line, "{L" .. index .. "}")
  end
  local n = 0
  text = text:gsub('"variant_id": null', function() n = n + 1; return '"variant_id": {V' .. n .. '}' end)
  text = text:gsub('"updated_at": "2021%-12%-31T19:00:00%-05:00"', '"updated_at": "{UPDATED}"', 1)
  text = text:gsub('"current_quantity": 1', '"current_quantity": {CQ}', 1)
  -- Split once into literal pieces and placeholder names, so a body is one table.concat.
  template = {}
  local position = 1
  for start, name, finish in text:gmatch("(){(%w+)}()") do
    template[#template + 1] = text:sub(position, start - 1)
    template[#template + 1] = { name }
    position = finish
  end
  template[#template + 1] = text:sub(position)
  held = {}
  for v = 0, variants - 1 do held[v] = 0 end
  orders, pending, recent, sent = 0, {}, {}, 0
  st_ok, st_other, r_applied, r_duplicate, r_stale, r_conflict, r_unmapped, r_invalid, d_duplicate = 0, 0, 0, 0, 0, 0, 0, 0, 0
end

local function variant(order, line) return (order * 7 + line * 13) % variants end

-- Units held per variant change only when an order's state changes.
local state = {}
local function account(order, is_update)
  local s = state[order]
  if s == nil then
    for line = 1, 5 do
      if not (line == 1 and is_update) then
        local v = variant(order, line)
        held[v] = held[v] + 1
      end
    end
    state[order] = is_update and 2 or 1
  elseif is_update and s == 1 then
    local v = variant(order, 1)
    held[v] = held[v] - 1
    state[order] = 2
  end
end

local function delivery(order, is_update)
  local values = {
    ORDER = order_base .. string.format("%011d", order),
    UPDATED = is_update and "2022-01-01T12:00:00Z" or "2021-12-31T19:00:00-05:00",
    CQ = is_update and "0" or "1",
  }
  for line = 1, 5 do
    values["L" .. line] = line_base .. string.format("%011d", order) .. line
    values["V" .. line] = variant_base .. string.format("%06d", variant(order, line))
  end
  local parts = {}
  for index, piece in ipairs(template) do
    parts[index] = type(piece) == "table" and values[piece[1]] or piece
  end
  local body = table.concat(parts)
  local topic = is_update and "orders/updated" or "orders/create"
  return {
    order = order, update = is_update,
    request = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["X-Shopify-Topic"] = topic,
      ["X-Shopify-Hmac-Sha256"] = sign(body),
      ["X-Shopify-Shop-Domain"] = "loadtest.myshopify.com",
      ["X-Shopify-Webhook-Id"] = string.format("lt-%d-%d-%s", id, order, topic),
      ["X-Shopify-Triggered-At"] = "2026-11-23T00:00:00Z",
      ["X-Shopify-API-Version"] = "2026-07",
    }, body),
  }
end

function request()
  sent = sent + 1
  if #recent > 0 and math.random() < 0.3 then
    return recent[math.random(#recent)].request
  end
  if #pending == 0 then
    orders = orders + 1
    -- Distinct across threads (up to 64) and across the rounds of one load test.
    local order = round * 1000000000 + orders * 64 + id
    if order % 40 == 0 then
      pending = { delivery(order, true), delivery(order, false) }
    elseif order % 20 == 0 then
      pending = { delivery(order, false), delivery(order, true) }
    else
      pending = { delivery(order, false) }
    end
  end
  local next = table.remove(pending, 1)
  account(next.order, next.update)
  if #recent < 512 then recent[#recent + 1] = next else recent[math.random(512)] = next end
  return next.request
end

-- The answer's counts come in a fixed order: one match reads them all.
local counts_pattern = '"counts":{"applied":(%d+),"duplicate":(%d+),"stale":(%d+),"conflict":(%d+),"unmapped":(%d+),"invalid":(%d+)}'

local check_answers = os.getenv("LOADTEST_CHECK_ANSWERS") == "1"
if check_answers then
  function response(status, headers, body)
    if status ~= 200 then st_other = st_other + 1; return end
    st_ok = st_ok + 1
    if body:find('^{"delivery":"duplicate"') then d_duplicate = d_duplicate + 1 end
    local applied, duplicate, stale, conflict, unmapped, invalid = body:match(counts_pattern)
    if applied then
      r_applied = r_applied + tonumber(applied)
      r_duplicate = r_duplicate + tonumber(duplicate)
      r_stale = r_stale + tonumber(stale)
      r_conflict = r_conflict + tonumber(conflict)
      r_unmapped = r_unmapped + tonumber(unmapped)
      r_invalid = r_invalid + tonumber(invalid)
    end
  end
end

function done(summary, latency, requests)
  local total = {}
  local names = { "st_ok", "st_other", "d_duplicate", "r_applied", "r_duplicate", "r_stale", "r_conflict", "r_unmapped", "r_invalid", "sent" }
  for _, name in ipairs(names) do total[name] = 0 end
  local expected = {}
  for _, thread in ipairs(threads) do
    for _, name in ipairs(names) do total[name] = total[name] + (thread:get(name) or 0) end
    local held = thread:get("held")
    for v, units in pairs(held or {}) do expected[v] = (expected[v] or 0) + units end
  end
  local seconds = summary.duration / 1e6
  -- wrk counts statuses above 399 itself, whether or not answers are read.
  local non200 = check_answers and total.st_other or summary.errors.status
  io.write(string.format("RESULT requests=%d requests_per_s=%.1f ok=%d non200=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f seconds=%.2f\n",
    summary.requests, summary.requests / seconds, check_answers and total.st_ok or summary.requests - non200, non200,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, seconds))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  if check_answers then
    io.write(string.format("KINDS duplicate_deliveries=%d applied=%d duplicate=%d stale=%d conflict=%d unmapped=%d invalid=%d\n",
      total.d_duplicate, total.r_applied, total.r_duplicate, total.r_stale, total.r_conflict, total.r_unmapped, total.r_invalid))
  end
  local path = os.getenv("LOADTEST_EXPECTED")
  if path then
    local file = assert(io.open(path, "w"))
    for v, units in pairs(expected) do
      if units ~= 0 then file:write(string.format("%d %d\n", v, units)) end
    end
    file:close()
  end
end
