-- introspect.http against tests/servers/fake_openai.py on 127.0.0.1 (started and stopped here).
-- Only lower time bounds (a limit must make requests wait): speed is measured by `make bench`.
local http = require("introspect.http")
local fake = require("servers.fake")

local server

local function chat_request(content, extra)
  local r = { method = "POST", url = server.base_url .. "/chat/completions",
    headers = { authorization = "Bearer " .. fake.KEY, ["content-type"] = "application/json" },
    body = '{"model":"m","messages":[{"role":"user","content":"' .. content .. '"}]}' }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function clock()
  local ok, sys = pcall(require, "introspect.sys")
  if ok then return sys.now() end
  return os.clock()
end

describe("introspect.http", function()
  setup(function() server = fake.start("--slow 0.3") end)
  teardown(function() if server then server:stop() end end)

  describe("pure parsers", function()
    it("parses retry-after in seconds, milliseconds and HTTP dates", function()
      assert.are.equal(2, http.parse_retry_after({ ["retry-after"] = "2" }))
      assert.are.equal(0.15, http.parse_retry_after({ ["retry-after-ms"] = "150", ["retry-after"] = "9" }))
      local future = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 20)
      local d = http.parse_retry_after({ ["retry-after"] = future })
      assert.is_true(d > 17 and d <= 20, tostring(d))
      assert.is_nil(http.parse_retry_after({ ["retry-after"] = "later" }))
      assert.is_nil(http.parse_retry_after({}))
    end)

    it("parses rate-limit reset durations", function()
      assert.are.equal(360, http.parse_duration("6m0s"))
      assert.are.equal(0.02, http.parse_duration("20ms"))
      assert.is_nil(http.parse_duration("6 minutes"))
    end)

    it("parses raw header blocks into lower-case names, joining repeats", function()
      local h = http.parse_headers("HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nContent-Type: text/plain \r\n\r\n")
      assert.are.same({ ["x-a"] = "1, 2", ["content-type"] = "text/plain" }, h)
    end)
  end)

  describe("pool:perform", function()
    it("returns one result per request in order, with lower-case headers and timings", function()
      local pool = http.pool({ concurrency = 4 })
      local reqs = {}
      for i = 1, 12 do reqs[i] = chat_request("n" .. i) end
      local res = pool:perform(reqs)
      assert.are.equal(12, #res)
      for i, r in ipairs(res) do
        assert.are.equal(200, r.status)
        assert.are.equal("application/json", r.headers["content-type"])
        assert.truthy(r.body:find("reply 0 to: n" .. i .. '"', 1, true), r.body)
        assert.are.equal(1, r.attempts)
        assert.is_nil(r.error)
        assert.is_true(r.timings.total > 0 and r.time > 0)
      end
      pool:close()
    end)

    it("retries 429 (retry-after, retry-after-ms, HTTP date), 408, 409, 500, 502, 503", function()
      local pool = http.pool({ concurrency = 16, max_retries = 3, backoff_base = 0.01 })
      local kinds = { "429", "429ms", "408", "409", "500", "502", "503" }
      local reqs = {}
      for i, k in ipairs(kinds) do reqs[i] = chat_request("retry " .. k .. " fault=" .. k .. "*2") end
      local t0 = clock()
      local res = pool:perform(reqs)
      local elapsed = clock() - t0
      for i, r in ipairs(res) do
        assert.are.equal(200, r.status, kinds[i])
        assert.are.equal(3, r.attempts, kinds[i])
      end
      -- two retry-after waits of 0.2 s for "429" and 0.15 s for "429ms"
      assert.is_true(res[1].time >= 0.39, "429 waited " .. res[1].time)
      assert.is_true(res[2].time >= 0.29, "429ms waited " .. res[2].time)
      assert.is_true(elapsed >= 0.39, "elapsed " .. elapsed)
    end)

    it("retries connection resets and truncated bodies", function()
      local pool = http.pool({ max_retries = 2, backoff_base = 0.01 })
      local res = pool:perform({ chat_request("reset fault=reset*1"), chat_request("trunc fault=truncate*1") })
      assert.are.equal(200, res[1].status)
      assert.are.equal(2, res[1].attempts)
      assert.are.equal(200, res[2].status)
      assert.are.equal(2, res[2].attempts)
    end)

    it("reads a body that arrives slowly, and times out one slower than the timeout", function()
      local pool = http.pool({ max_retries = 1, backoff_base = 0.01 })
      local res = pool:perform({ chat_request("drip fault=drip"),
        chat_request("drip2 fault=drip", { timeout = 0.12 }) })
      assert.are.equal(200, res[1].status)
      assert.truthy(res[1].body:find("reply 0 to: dripped", 1, true))
      assert.is_true(res[1].timings.total - res[1].timings.first_byte >= 0.15)
      assert.is_nil(res[2].status)
      assert.are.equal(2, res[2].attempts)  -- a timeout is retried
      assert.truthy(res[2].error:find("curl error 28", 1, true), res[2].error)
    end)

    it("fails 400 and 401 at once", function()
      local pool = http.pool({ max_retries = 5, backoff_base = 0.01 })
      local bad_auth = chat_request("hello")
      bad_auth.headers.authorization = "Bearer wrong"
      local res = pool:perform({ chat_request("bad fault=400"), bad_auth })
      assert.are.equal(400, res[1].status)
      assert.are.equal(1, res[1].attempts)
      assert.are.equal(401, res[2].status)
      assert.are.equal(1, res[2].attempts)
    end)

    it("respects the retry cap and x-should-retry: false", function()
      local pool = http.pool({ max_retries = 2, backoff_base = 0.01 })
      local before = server:stats().by_path["/v1/chat/completions"] or 0
      local res = pool:perform({ chat_request("always fault=503"), chat_request("never fault=noretry") })
      assert.are.equal(503, res[1].status)
      assert.are.equal(3, res[1].attempts)
      assert.are.equal(503, res[2].status)
      assert.are.equal(1, res[2].attempts)
      assert.are.equal(4, server:stats().by_path["/v1/chat/completions"] - before)
      res = pool:perform({ chat_request("always reset fault=reset") })
      assert.is_nil(res[1].status)
      assert.are.equal(3, res[1].attempts)
      assert.truthy(res[1].error:find("curl error", 1, true), res[1].error)
    end)

    it("reports connection refused and timeouts as errors without a status", function()
      local pool = http.pool({ max_retries = 0, connect_timeout = 2 })
      local res = pool:perform({ { url = "http://127.0.0.1:1/" },
        chat_request("slow fault=slow", { timeout = 0.1 }) })
      assert.is_nil(res[1].status)
      assert.truthy(res[1].error:find("connect", 1, true), res[1].error)
      assert.is_nil(res[2].status)
      assert.truthy(res[2].error:lower():find("timeout", 1, true) or res[2].error:find("timed out", 1, true),
        res[2].error)
    end)

    it("holds the concurrency cap", function()
      local reqs = {}
      for i = 1, 6 do reqs[i] = chat_request("cap" .. i .. " fault=slow") end
      local t0 = clock()
      http.pool({ concurrency = 2 }):perform(reqs)
      local two = clock() - t0
      t0 = clock()
      for i = 1, 6 do reqs[i] = chat_request("cap6-" .. i .. " fault=slow") end
      local res = http.pool({ concurrency = 6 }):perform(reqs)
      local six = clock() - t0
      assert.is_true(two >= 0.85, "3 waves of 0.3 s took " .. two)
      -- the six ran at once: their durations add up to more than twice the wall time (run one
      -- after another they could not exceed it), however slow the machine
      local busy = 0
      for _, r in ipairs(res) do busy = busy + r.time end
      assert.is_true(busy > 2 * six, string.format("6 requests took %.2f s in all within %.2f s", busy, six))
    end)

    it("holds a requests-per-minute cap", function()
      local pool = http.pool({ concurrency = 8, rpm = 1200 })  -- 20 per second
      local reqs = {}
      for i = 1, 21 do reqs[i] = chat_request("rpm" .. i) end
      local t0 = clock()
      pool:perform(reqs)
      local elapsed = clock() - t0
      assert.is_true(elapsed >= 0.95, "21 requests at 20/s took " .. elapsed)
    end)

    it("holds a tokens-per-minute cap", function()
      -- 6000 tokens per minute = 100 per second; the bucket starts full. The first request
      -- takes the whole bucket, so the second (50 tokens) waits 0.5 s for the refill.
      local pool = http.pool({ concurrency = 8, tpm = 6000 })
      local t0 = clock()
      local res = pool:perform({ chat_request("tpm1", { tokens = 6000 }), chat_request("tpm2", { tokens = 50 }) })
      local elapsed = clock() - t0
      assert.are.equal(200, res[2].status)
      assert.is_true(elapsed >= 0.45, "second request waited for tokens: " .. elapsed)
      local free = http.pool({ concurrency = 8 })
      res = free:perform({ chat_request("tpm3", { tokens = 6000 }), chat_request("tpm4", { tokens = 50 }) })
      assert.are.equal(200, res[2].status)
      assert.are.equal(0, free:limits().tpm, "without a tpm cap nothing waits for tokens")
    end)

    it("pauses new requests when x-ratelimit-remaining-requests reaches 0", function()
      local pool = http.pool({ concurrency = 1 })
      local t0 = clock()
      local res = pool:perform({ chat_request("rl fault=ratelimit*1"), chat_request("after rl") })
      local elapsed = clock() - t0
      assert.are.equal(200, res[2].status)
      assert.is_true(elapsed >= 0.28, "reset of 300 ms honoured, took " .. elapsed)
    end)

    it("learns a server's lower x-ratelimit-limit-requests and paces to it", function()
      local pool = http.pool({ concurrency = 8 })
      assert.are.same({ rpm = 0, tpm = 0, rpm_configured = 0, tpm_configured = 0, paused_for = 0 }, pool:limits())
      pool:perform({ chat_request("limits fault=limits") })
      local limits = pool:limits()
      assert.are.equal(600, limits.rpm)     -- 10 per second
      assert.are.equal(60000, limits.tpm)
      local reqs = {}
      for i = 1, 6 do reqs[i] = chat_request("paced" .. i) end
      local t0 = clock()
      pool:perform(reqs)
      assert.is_true(clock() - t0 >= 0.45, "6 requests at 10/s took " .. (clock() - t0))
      local fixed = http.pool({ concurrency = 8, rpm = 300, learn_limits = false })
      fixed:perform({ chat_request("limits fault=limits") })
      assert.are.equal(300, fixed:limits().rpm)
      local lower = http.pool({ concurrency = 8, rpm = 300 })
      lower:perform({ chat_request("limits fault=limits") })
      assert.are.equal(300, lower:limits().rpm)  -- the configured limit is already lower
    end)

    it("calls on_result as each request finishes and stops when it returns false", function()
      local pool = http.pool({ concurrency = 1 })
      local reqs = {}
      for i = 1, 5 do reqs[i] = chat_request("stop" .. i) end
      local seen = {}
      local res = pool:perform(reqs, { on_result = function(i, r)
        seen[#seen + 1] = i
        assert.are.equal("table", type(r))
        if i == 2 then return false end
        return nil
      end })
      assert.are.same({ 1, 2, 3, 4, 5 }, seen)  -- the cancelled ones are reported too
      assert.are.equal(200, res[1].status)
      assert.are.equal(200, res[2].status)
      for i = 3, 5 do
        assert.are.equal("cancelled", res[i].error)
        assert.are.equal(0, res[i].attempts)
      end
    end)

    it("calls progress between transfers and cleans up when a callback raises", function()
      local pool = http.pool({ concurrency = 2 })
      local calls = {}
      local reqs = {}
      for i = 1, 4 do reqs[i] = chat_request("prog" .. i) end
      pool:perform(reqs, { progress_interval = 0, progress = function(info) calls[#calls + 1] = info end })
      assert.is_true(#calls >= 1)
      assert.are.equal(4, calls[#calls].done)
      assert.are.equal(4, calls[#calls].total)
      local ok, err = pcall(pool.perform, pool, reqs, { on_result = function() error("boom") end })
      assert.is_false(ok)
      assert.truthy(tostring(err):find("boom", 1, true))
      -- the pool is usable again
      assert.are.equal(200, pool:perform({ chat_request("after error") })[1].status)
    end)

    it("rejects misuse with errors naming the function and argument", function()
      local pool = http.pool()
      assert.has_error(function() http.pool({ concurency = 2 }) end,
        "http.pool: unknown option 'concurency' (known: concurrency, rpm, tpm, max_retries, backoff_base, "
          .. "backoff_max, retry_after_max, connect_timeout, timeout, http2, user_agent, ca_file, learn_limits)")
      assert.has_error(function() pool:perform({ { url = 5 } }) end, "pool:perform: request 1: 'url' must be a string")
      assert.has_error(function() pool:perform({ { url = "http://x/", headers = { ["a\nb"] = "c" } } }) end)
      assert.has_error(function() pool:perform({}, { on_reslt = print }) end)
      pool:close()
      assert.has_error(function() pool:perform({}) end)
      assert.are.equal("http pool (closed)", tostring(pool))
    end)
  end)

  describe("TLS, HTTP/2 and proxies", function()
    local nginx = require("servers.nginx")

    it("verifies certificates, and speaks HTTP/2 when the server offers it", function()
      local tls, why = nginx.start({ body = '{"ok": true}', tls = true })
      if not tls then
        require("lib.skip").missing("http_spec", "TLS and HTTP/2 not checked: " .. tostring(why))
        return
      end
      local ok, err = pcall(function()
        local unverified = http.request({ url = tls.url .. "/x" }, { max_retries = 3 })
        assert.is_nil(unverified.status)
        assert.are.equal(1, unverified.attempts)  -- a certificate failure is not retried
        assert.truthy(unverified.error:find("certificate", 1, true), unverified.error)
        local r = http.request({ url = tls.url .. "/x" }, { ca_file = tls.ca_file })
        assert.are.equal(200, r.status)
        assert.are.equal('{"ok": true}', r.body)
        assert.are.equal("2", r.http_version)
        assert.is_true(r.timings.tls > 0)
        local r1 = http.request({ url = tls.url .. "/x" }, { ca_file = tls.ca_file, http2 = false })
        assert.are.equal("1.1", r1.http_version)
      end)
      tls:stop()
      assert(ok, err)
    end)

    it("takes its proxy from the environment (http_proxy)", function()
      local before = server:stats().proxied
      local pid, pipe, script = fake.spawn(string.format([[
        local http = require("introspect.http")
        local r = http.request({ url = "http://proxied.invalid/v1/models",
          headers = { authorization = "Bearer %s" } })
        print(r.status, r.error)
      ]], fake.KEY), "http_proxy=" .. server.root .. " no_proxy=")
      local line = pipe:read("l")
      pipe:close()
      os.remove(script)
      assert.truthy(pid)
      assert.are.equal("200\tnil", line)
      assert.are.equal(before + 1, server:stats().proxied)
    end)
  end)

  describe("http.request", function()
    it("makes one synchronous request", function()
      local r = http.request({ url = server.base_url .. "/models",
        headers = { authorization = "Bearer " .. fake.KEY } })
      assert.are.equal(200, r.status)
      assert.truthy(r.body:find("fake-model", 1, true))
      assert.are.equal("1.1", r.http_version)
    end)
  end)
end)
