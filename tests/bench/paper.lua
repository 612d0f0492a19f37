-- Benchmark: the whole paper study (experiments/paper.lua, the default design) on the simulated
-- subject, three times in fresh run directories: the median wall and CPU time (each run's wall
-- listed), the time of each phase of the median run (from its summary.json), the response
-- store's bytes per response, and a peer measured in the same run: the subject alone answering
-- the same number of requests (api:handle, no client, no store), the floor under the sampling
-- phases. Target: the whole study in at most 5 s wall on 2 cores. Then experiments/power.lua at
-- its default design (30 contexts, 4 x 3 designs, 20 replications, MAP fits): its wall and CPU
-- time (it gets faster in proportion as the subject, the client and the fits do). A second
-- peer: the same study on glibc malloc (INTROSPECT_ALLOC=malloc) instead of the Lua states' pool
-- allocator (bindings/lalloc.c), its runs alternated with the pool's.
local cjson = require "cjson"
local sys = require "introspect.sys"
local sqlite = require "introspect.sqlite"

package.path = "tests/?.lua;" .. package.path
local S = require "sim_support"
local sim = require "introspect.sim"

local exe = arg[-1] or "build/introspect"
local out = os.tmpname()
os.remove(out)

-- children_cpu() -> CPU seconds used by finished children of this process (user + system)
local function children_cpu()
  local f = io.open("/proc/self/stat")
  if not f then return 0 end
  local fields = {}
  for x in f:read("a"):gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  f:close()
  return (tonumber(fields[14]) + tonumber(fields[15])) / 100
end

-- study(env, dir) -> wall, cpu | nil: one run of the study into a fresh directory dir, with the
-- environment prefix env ("" or "INTROSPECT_ALLOC=malloc ")
local function study(env, dir)
  local c0, w0 = children_cpu(), sys.now()
  local ok = os.execute(string.format("%s'%s' experiments/paper.lua --out='%s' >/dev/null 2>'%s.err'", env, exe,
    dir, dir))
  if not ok then return nil end
  return sys.now() - w0, children_cpu() - c0
end

-- median(list) -> the middle value (lists of odd length)
local function median(list)
  local sorted = table.move(list, 1, #list, 1, {})
  table.sort(sorted)
  return sorted[(#sorted + 1) // 2]
end

-- RUNS runs of the study on the pool allocator alternating with RUNS on glibc malloc (the
-- peer), so that the machine's load weighs on both alike; the median run is the one reported
-- (this shared 2-core machine's run-to-run noise is about a fifth), each run listed beside it.
local RUNS = 3
local walls, cpus, mwalls, mcpus, kept = {}, {}, {}, {}, nil
for r = 1, RUNS do
  local dir = out .. "-" .. r
  local w, c = study("", dir)
  if not w then
    print("FAILED: experiments/paper.lua exited with an error (see " .. dir .. ".err)")
    os.exit(1)
  end
  walls[r], cpus[r] = w, c
  local mw, mc = study("INTROSPECT_ALLOC=malloc ", dir .. "-malloc")
  os.execute("rm -rf '" .. dir .. "-malloc' '" .. dir .. "-malloc.err'")
  if not mw then
    print("FAILED: the study on glibc malloc (INTROSPECT_ALLOC=malloc) exited with an error")
    os.exit(1)
  end
  mwalls[r], mcpus[r] = mw, mc
end
local wall, cpu = median(walls), median(cpus)
for r = 1, RUNS do   -- the median run's directory is kept for its phases and store
  local dir = out .. "-" .. r
  if walls[r] == wall and not kept then kept = dir os.rename(dir, out) else os.execute("rm -rf '" .. dir .. "'") end
  os.remove(dir .. ".err")
end
local function list(values)
  local parts = {}
  for i, v in ipairs(values) do parts[i] = string.format("%.2f", v) end
  return table.concat(parts, ", ")
end
local summary = cjson.decode(assert(io.open(out .. "/summary.json")):read("a"))
print(string.format("experiments/paper.lua on the simulated subject: %.2f s wall, %.2f s CPU (medians of %d runs; "
  .. "walls %s s; %.2f cores busy); target <= 5 s wall", wall, cpu, RUNS, list(walls), cpu / wall))
local timings, names, total = summary.timings or {}, {}, 0
for name, secs in pairs(timings) do names[#names + 1] = name total = total + secs end
table.sort(names, function(a, b) return timings[a] > timings[b] end)
print("  phases of the median run:")
for _, name in ipairs(names) do
  print(string.format("  %-52s %6.2f s  %4.1f%%", name, timings[name], 100 * timings[name] / wall))
end
print(string.format("  %-52s %6.2f s  %4.1f%%", "(outside the phases: start, stimuli, analysis, report)",
  wall - total, 100 * (wall - total) / wall))
print(string.format("peer: the same study on glibc malloc (INTROSPECT_ALLOC=malloc): %.2f s wall, %.2f s CPU "
  .. "(medians of %d runs, alternated with the pool's); the pool allocator's CPU is %.2fx malloc's",
  median(mwalls), median(mcpus), RUNS, cpu / median(mcpus)))

-- the store
local db = assert(sqlite.open(out .. "/responses.sqlite"))
local rows = db:rows("SELECT count(*) AS n FROM responses")[1].n
db:exec("PRAGMA wal_checkpoint(TRUNCATE)")
db:close()
local f = assert(io.open(out .. "/responses.sqlite", "rb"))
local bytes = f:seek("end")
f:close()
print(string.format("response store: %d responses, %.0f bytes per response; target <= 600", rows, bytes / rows))

-- the peer: the subject alone answering as many decision requests
local contexts = S.contexts(20)
local bodies = {}
for c = 1, 20 do
  local t = S.trials(contexts[c], 100, 40 + c)
  for j = 1, 100 do
    bodies[#bodies + 1] = cjson.encode({ model = "sim-large", temperature = 0,
      messages = { { role = "system", content = S.SYSTEM },
        { role = "user", content = S.decision(contexts[c], t, j) } } })
  end
end
local api = sim.api({})
local c0 = sys.cputime()
for i = 1, #bodies do
  api:handle({ method = "POST", path = "/v1/chat/completions", headers = {}, body = bodies[i] })
end
local per = (sys.cputime() - c0) / #bodies
print(string.format("peer: the subject alone, %.1f us CPU per request: %d requests = %.2f s CPU "
  .. "(%.0f%% of the study's CPU)", per * 1e6, rows, per * rows, 100 * per * rows / cpu))
os.execute("rm -rf '" .. out .. "' '" .. out .. ".err'")

-- experiments/power.lua, default design
local cpu0, t0 = children_cpu(), sys.now()
local p = io.popen(string.format("'%s' experiments/power.lua --out='%s' 2>&1", exe, out))
local text = p:read("a")
local ok = p:close()
wall, cpu = sys.now() - t0, children_cpu() - cpu0
os.execute("rm -rf '" .. out .. "'")
if not ok then
  print("FAILED: experiments/power.lua exited with an error:\n" .. text)
  os.exit(1)
end
print(string.format("experiments/power.lua, default design: %.2f s wall, %.2f s CPU", wall, cpu))
