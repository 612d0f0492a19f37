-- Benchmark: `introspect serve` under load. 20,000 chat completions (study-style decision
-- prompts over 20 contexts, logprobs on) at concurrency 64 through the libcurl client
-- (introspect.http), beside Debian's nginx returning a fixed completion of the same size to the
-- same client at the same concurrency in the same run. Targets: >= 2,000 completions/s with no
-- errors, and (issue 18) at least 0.8 of nginx's rate. Each run prints the server's CPU per
-- request and the client's (this process), so a ratio can be read against what each side costs
-- (the three share two cores). Also the in-process transport's rate on the same requests.
local http = require "introspect.http"
local sys = require "introspect.sys"
local cjson = require "cjson"

package.path = "tests/?.lua;" .. package.path
local S = require "sim_support"
local nginx = require "servers.nginx"
local sim = require "introspect.sim"

local exe = arg[-1] or "build/introspect"
local N, CONC = 20000, 64

-- the requests: 20 contexts x 1000 fresh trials
local bodies = {}
local contexts = S.contexts(20)
for c = 1, 20 do
  local t = S.trials(contexts[c], N // 20, 40 + c)
  for j = 1, N // 20 do
    bodies[#bodies + 1] = cjson.encode({ model = "sim-large", temperature = 0, logprobs = true, top_logprobs = 2,
      messages = { { role = "system", content = S.SYSTEM },
        { role = "user", content = S.decision(contexts[c], t, j) } } })
  end
end

local function requests(url)
  local reqs = {}
  for i, b in ipairs(bodies) do
    reqs[i] = { method = "POST", url = url, headers = { ["content-type"] = "application/json" }, body = b }
  end
  return reqs
end

-- cpu_of(pid) -> CPU seconds used by a process (user + system), from /proc
local function cpu_of(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local stat = f:read("a")
  f:close()
  local fields = {}
  for x in stat:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

-- nginx_cpu(server) -> CPU seconds of the peer's master and worker processes
local function nginx_cpu(server)
  local master = server:pid()
  if not master then return nil end
  local total = cpu_of(master) or 0
  local p = io.popen("cat /proc/" .. master .. "/task/*/children 2>/dev/null")
  for pid in p:read("a"):gmatch("%d+") do total = total + (cpu_of(pid) or 0) end
  p:close()
  return total
end

local client_cpu   -- the client's CPU seconds per request in the last run
local peer_rps     -- nginx's rate

local function run(url, expect)
  local pool = http.pool({ concurrency = CONC, max_retries = 0 })
  local reqs = requests(url)
  pool:perform({ table.unpack(reqs, 1, CONC * 4) })   -- warm the connections
  local t0, c0 = sys.now(), sys.cputime()
  local res = pool:perform(reqs)
  local dt = sys.now() - t0
  client_cpu = (sys.cputime() - c0) / N
  local failed = 0
  for _, r in ipairs(res) do
    if r.status ~= 200 or (expect and not expect(r.body)) then failed = failed + 1 end
  end
  pool:close()
  return N / dt, failed, res
end

-- start the server
local proc = io.popen("sh -c 'echo $$; exec \"$0\" serve --port=0 2>&1' '" .. exe .. "'", "r")
local pid = proc:read("l")
local url = (proc:read("l") or ""):match("(http://%S+)")
proc:read("l")
if not url then print("FAILED: serve did not start") os.exit(1) end
local ok, err = pcall(function()
  local c0 = cpu_of(pid)
  local rps, failed, res = run(url .. "/chat/completions", function(body) return body:find('"content":"[AB]"') end)
  local server_cpu = (cpu_of(pid) - c0) / (N + CONC * 4)
  print(string.format("introspect serve  concurrency %d: %d chat completions, %8.0f req/s, %5.1f us server CPU "
    .. "per request, client %.1f us%s", CONC, N, rps, server_cpu * 1e6, client_cpu * 1e6,
    failed > 0 and string.format(" (%d FAILED)", failed) or ""))
  local sample = res[1].body
  local peer, why = nginx.start({ body = sample:gsub("'", "") })
  if not peer then
    print("SKIP peer: " .. why)
  else
    local n0 = nginx_cpu(peer)
    local prps, pfailed = run(peer.url .. "/v1/chat/completions")
    local n1 = nginx_cpu(peer)
    peer_rps = prps
    peer:stop()
    local ncpu = n0 and n1 and string.format("%5.1f us", (n1 - n0) / (N + CONC * 4) * 1e6) or "unknown"
    print(string.format("nginx static      concurrency %d: %d fixed %d-byte responses, %8.0f req/s, %s server CPU "
      .. "per request, client %.1f us%s", CONC, N, #sample, prps, ncpu, client_cpu * 1e6,
      pfailed > 0 and string.format(" (%d FAILED)", pfailed) or ""))
    print(string.format("ratio serve/nginx: %.2f; target >= 0.8: %s", rps / prps,
      rps / prps >= 0.8 and "met" or "NOT MET"))
  end
  -- in process, same requests
  local transport = sim.transport({})
  local reqs = requests("http://sim.invalid/v1/chat/completions")
  local t0, cpu0 = sys.now(), sys.cputime()
  transport:perform(reqs)
  local dt, cpu = sys.now() - t0, sys.cputime() - cpu0
  print(string.format("in-process sim transport: %8.0f req/s (%.1f us CPU per completion)", N / dt, cpu / N * 1e6))
  if peer_rps then
    print(string.format("  the subject alone in one Lua state, no HTTP: %.2f of nginx's rate (the ceiling of a server "
      .. "answering from one state)", N / dt / peer_rps))
  end
  print(string.format("target >= 2000 completions/s at concurrency 64 without errors: %s",
    (rps >= 2000 and failed == 0) and "met" or "NOT MET"))
end)
os.execute("kill -INT " .. pid)
proc:read("a")
proc:close()
if not ok then print("FAILED: " .. tostring(err)) os.exit(1) end
