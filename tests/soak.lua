-- `make soak`: a fault-injection soak of `introspect serve` (10 minutes by default; not part of
-- `make test`). The OpenAI client (introspect.client.openai over the libcurl transport) sends rounds of
-- chat completions at concurrency 64 to a server injecting 429s, 500s, 503s, connection resets,
-- truncated bodies and latency. Every answer is checked against the in-process simulated API,
-- which answers the same prompt identically. Passes when no request was lost or wrong.
--   build/introspect tests/soak.lua [SECONDS]
local cjson = require "cjson"
local sys = require "introspect.sys"
local openai = require "introspect.client.openai"
local sim = require "introspect.sim"

package.path = "tests/?.lua;" .. package.path
local S = require "sim_support"

local exe = arg[-1] or "build/introspect"
local seconds = tonumber(arg[1] or os.getenv("SOAK_SECONDS") or "600")
local FAULTS = "429=0.03,500=0.02,503=0.02,reset=0.02,truncate=0.02,latency=5ms,retry_after=0.05,seed=11"
local ROUND = 2000

local proc = io.popen("sh -c 'echo $$; exec \"$0\" serve --port=0 --faults=" .. FAULTS .. " 2>&1' '" .. exe .. "'", "r")
local pid = proc:read("l")
local url = (proc:read("l") or ""):match("(http://%S+)")
proc:read("l")
if not url then print("soak: FAILED: serve did not start") os.exit(1) end

local reference = sim.api({})   -- the same subject, in process, without faults
local contexts = S.contexts(40)
local client = openai.new({ base_url = url, api_key = "sk-soak-not-a-key",
  pool = { concurrency = 64, max_retries = 12, backoff_base = 0.01, backoff_max = 0.2 } })

local totals = { sent = 0, lost = 0, wrong = 0, retried = 0, attempts = 0 }
local started = sys.now()
local round = 0
local last_print = started
local ok, err = pcall(function()
  while sys.now() - started < seconds do
    round = round + 1
    local bodies = {}
    for i = 1, ROUND do
      local c = contexts[(round * 7 + i) % #contexts + 1]
      local t = S.trials(c, 1, round * 100000 + i)
      local text = (i % 5 == 0) and S.report(c, t, 1) or S.decision(c, t, 1)
      bodies[i] = { model = (i % 2 == 0) and "sim-large" or "sim-small", temperature = 0,
        messages = { { role = "system", content = S.SYSTEM }, { role = "user", content = text } } }
    end
    local entries = client:chat_many(bodies, { no_cache = true, no_store = true })
    for i, e in ipairs(entries) do
      totals.sent = totals.sent + 1
      totals.attempts = totals.attempts + (e.attempts or 1)
      if (e.attempts or 1) > 1 then totals.retried = totals.retried + 1 end
      if e.error or not e.response then
        totals.lost = totals.lost + 1
        if totals.lost <= 5 then print("soak: lost request: " .. tostring(e.error)) end
      else
        local res = reference:handle({ method = "POST", path = "/v1/chat/completions", headers = {},
          body = cjson.encode(bodies[i]) })
        local want = cjson.decode(res.body).choices[1].message.content
        if e.response.choices[1].message.content ~= want then
          totals.wrong = totals.wrong + 1
          if totals.wrong <= 5 then print("soak: wrong answer for request " .. i) end
        end
      end
    end
    if sys.now() - last_print >= 30 then
      last_print = sys.now()
      print(string.format("soak: %4.0f s, round %d: %d requests, %d retried (%d attempts), %d lost, %d wrong",
        sys.now() - started, round, totals.sent, totals.retried, totals.attempts, totals.lost, totals.wrong))
      io.stdout:flush()
    end
  end
end)
os.execute("kill -INT " .. pid)
proc:read("a")
proc:close()
if not ok then print("soak: FAILED: " .. tostring(err)) os.exit(1) end
local elapsed = sys.now() - started
print(string.format("soak: %d requests in %.0f s (%.0f/s) through faults %s: %d needed retries, %d lost, %d wrong",
  totals.sent, elapsed, totals.sent / elapsed, FAULTS, totals.retried, totals.lost, totals.wrong))
os.exit((totals.lost == 0 and totals.wrong == 0 and totals.sent > 0) and 0 or 1)
