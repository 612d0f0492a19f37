-- Benchmark: the libcurl transport against Debian's nginx (started here on a loopback port with
-- a temporary config that returns a fixed chat-completion body). Requests per second and client
-- CPU time per request at concurrency 1, 16, 64 and 256, beside Python's aiohttp (Debian's
-- /usr/bin/python3) sending the same requests in the same run; target: client CPU per request
-- <= 1/3 of aiohttp's at concurrency 64. Then a requests-per-minute cap, held within 2%.
local http = require "introspect.http"
local sys = require "introspect.sys"

package.path = "tests/?.lua;" .. package.path
local nginx = require "servers.nginx"
local PY = "/usr/bin/python3"

local BODY = '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,'
  .. '"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",'
  .. '"content":"I would choose option A."},"logprobs":null,"finish_reason":"stop"}],'
  .. '"usage":{"prompt_tokens":120,"completion_tokens":7,"total_tokens":127},'
  .. '"system_fingerprint":"fp_bench"}'
local REQUEST = '{"model": "gpt-4o-mini-2024-07-18", "messages": [{"role": "user", "content": '
  .. '"Imagine you are a commuter. Which do you choose? A: 25 min, $3.10, 2 transfers. '
  .. 'B: 40 min, $1.90, 0 transfers. Answer A or B."}], "temperature": 0}'

local server, why = nginx.start({ body = BODY })
if not server then print("SKIP: " .. why) return end
local port = server.port
local function stop_nginx() server:stop() end

local URL = string.format("http://127.0.0.1:%d/v1/chat/completions", port)
local HEADERS = { authorization = "Bearer sk-bench-not-a-key", ["content-type"] = "application/json" }

-- wait until nginx answers
local up = false
for _ = 1, 50 do
  local r = http.request({ url = URL, method = "POST", headers = HEADERS, body = REQUEST })
  if r.status == 200 then up = true break end
  sys.sleep(0.05)
end
if not up then stop_nginx() error("nginx did not answer on port " .. port) end

local function requests(n)
  local reqs = {}
  for i = 1, n do reqs[i] = { method = "POST", url = URL, headers = HEADERS, body = REQUEST } end
  return reqs
end

local COUNTS = { [1] = 2000, [16] = 10000, [64] = 20000, [256] = 20000 }
local LEVELS = { 1, 16, 64, 256 }

-- ours: returns req/s, CPU seconds per request, failures
local function measure(conc, n)
  local pool = http.pool({ concurrency = conc, max_retries = 0 })
  pool:perform(requests(math.min(n, conc * 4)))  -- warm connections
  local reqs = requests(n)
  local c0, t0 = sys.cputime(), sys.now()
  local res = pool:perform(reqs)
  local c1, t1 = sys.cputime(), sys.now()
  local failed = 0
  for _, r in ipairs(res) do if r.status ~= 200 or #r.body ~= #BODY then failed = failed + 1 end end
  pool:close()
  return n / (t1 - t0), (c1 - c0) / n, failed
end

local PEER = [==[
import asyncio, json, sys, time
import aiohttp

url, body, auth = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
plan = [tuple(map(int, x.split(":"))) for x in sys.argv[4].split(",")]
headers = {"authorization": auth, "content-type": "application/json"}

async def run(conc, n):
    conn = aiohttp.TCPConnector(limit=conc, limit_per_host=conc)
    async with aiohttp.ClientSession(connector=conn) as s:
        sem = asyncio.Semaphore(conc)
        async def one():
            async with sem:
                async with s.post(url, data=body, headers=headers) as r:
                    data = await r.read()
                    return r.status == 200 and len(data) > 0
        await asyncio.gather(*[one() for _ in range(min(n, conc * 4))])
        c0, t0 = time.process_time(), time.perf_counter()
        ok = await asyncio.gather(*[one() for _ in range(n)])
        c1, t1 = time.process_time(), time.perf_counter()
        return {"conc": conc, "rps": n / (t1 - t0), "cpu": (c1 - c0) / n, "failed": ok.count(False)}

out = []
for conc, n in plan:
    out.append(asyncio.run(run(conc, n)))
print(json.dumps(out))
]==]

local function peer()
  local path = os.tmpname()
  local pf = assert(io.open(path, "w"))
  pf:write(PEER)
  pf:close()
  local plan = {}
  for _, c in ipairs(LEVELS) do plan[#plan + 1] = c .. ":" .. COUNTS[c] end
  local p = io.popen(string.format("%s %s '%s' '%s' '%s' '%s' 2>&1", PY, path, URL, REQUEST,
    HEADERS.authorization, table.concat(plan, ",")))
  local out = p:read("a")
  p:close()
  os.remove(path)
  local ok, decoded = pcall(require("cjson").decode, out)
  if not ok then return nil, out end
  local by = {}
  for _, r in ipairs(decoded) do by[math.tointeger(r.conc)] = r end
  return by
end

local ok, err = pcall(function()
  print(string.format("nginx on 127.0.0.1:%d, %d-byte response, %d-byte request body; %s",
    port, #BODY, #REQUEST, http.version():match("^%S+")))
  local ours = {}
  for _, c in ipairs(LEVELS) do
    local rps, cpu, failed = measure(c, COUNTS[c])
    ours[c] = { rps = rps, cpu = cpu }
    print(string.format("introspect.http  concurrency %3d: %6d requests, %8.0f req/s, %6.1f us CPU/request%s",
      c, COUNTS[c], rps, cpu * 1e6, failed > 0 and string.format(" (%d FAILED)", failed) or ""))
    io.stdout:flush()
  end
  local py, perr = peer()
  if not py then
    print("aiohttp peer failed to run; no ratio: " .. tostring(perr))
  else
    for _, c in ipairs(LEVELS) do
      local r = py[c]
      print(string.format("aiohttp          concurrency %3d: %6d requests, %8.0f req/s, %6.1f us CPU/request%s",
        c, COUNTS[c], r.rps, r.cpu * 1e6, r.failed > 0 and string.format(" (%d FAILED)", r.failed) or ""))
    end
    for _, c in ipairs(LEVELS) do
      print(string.format("ratio at concurrency %3d: CPU/request %.2f of aiohttp's (%.1fx less), "
        .. "req/s %.2fx aiohttp's%s", c, ours[c].cpu / py[c].cpu, py[c].cpu / ours[c].cpu,
        ours[c].rps / py[c].rps, c == 64 and "; target <= 0.33" or ""))
    end
  end
  -- the rate cap: 400 requests per second (24000 per minute) at concurrency 64
  local RATE, N = 400, 1200
  local pool = http.pool({ concurrency = 64, rpm = RATE * 60, max_retries = 0 })
  local starts = {}
  local t0 = sys.now()
  pool:perform(requests(N), { on_result = function(i) starts[i] = sys.now() end })
  local elapsed = sys.now() - t0
  -- N requests start at t0 + k/RATE, k = 0..N-1, so the achieved start rate is (N-1) over
  -- the span of starts; measured from completions (each ~latency after its start)
  table.sort(starts)
  local achieved = (N - 1) / (starts[N] - starts[1])
  print(string.format("rate cap %d req/s (rpm %d): %d requests in %.3f s, achieved %.1f req/s "
    .. "(%.2f%% off the cap; target within 2%%)", RATE, RATE * 60, N, elapsed, achieved,
    100 * math.abs(achieved - RATE) / RATE))
  pool:close()
  -- the whole client path at concurrency 64: encode, cache key and lookup, transport, decode,
  -- record every response in a store (SQLite WAL), then the same phase again from the cache
  local openai = require "introspect.client.openai"
  local store = require "introspect.client.store"
  local db = os.tmpname()
  local st = assert(store.open(db))
  local client = openai.new({ api_key = "sk-bench-not-a-key", base_url = server.url .. "/v1",
    store = st, pool = { concurrency = 64, max_retries = 0 } })
  local bodies = {}
  for i = 1, 5000 do
    bodies[i] = { model = "gpt-4o-mini-2024-07-18", temperature = 0,
      messages = { { role = "user", content = "Imagine you are a commuter. Which do you choose? " .. i } } }
  end
  for _, label in ipairs({ "sent and stored", "served from the store" }) do
    local cpu0, wall0 = sys.cputime(), sys.now()
    local _, summary = client:chat_many(bodies)
    local cpu1, wall1 = sys.cputime(), sys.now()
    print(string.format("openai.chat_many + store, concurrency 64, %d requests %s: %.0f req/s, "
      .. "%.1f us CPU/request (%d errors)", #bodies, label, #bodies / (wall1 - wall0),
      (cpu1 - cpu0) / #bodies * 1e6,
      summary.errors))
  end
  st:close()
  for _, suffix in ipairs({ "", "-wal", "-shm" }) do os.remove(db .. suffix) end
end)
stop_nginx()
if not ok then error(err, 0) end
