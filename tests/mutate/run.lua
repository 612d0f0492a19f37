-- tests/mutate/run.lua: mutation testing (`make mutate`). Usage:
--   introspect tests/mutate/run.lua [--budget=SECONDS] [--jobs=N] [--check] [ID...]
-- Each mutation of tests/mutate/mutations.lua is a small semantic change: the exact text
-- `search` in `file` (it must occur exactly once) replaced by `replace`, applied to a fresh copy
-- of the tree (scripts/, experiments/, tests/, docs/) and run against only the specs named in
-- `specs`. A mutation is caught when one of them fails. The specs first run once on the
-- unmutated copy (a red baseline makes every result meaningless, so it stops the run).
-- A mutation whose search text is missing or ambiguous is STALE and fails the run, so a
-- refactoring that moves the code gets the mutation updated instead of silently dropping it.
-- A mutation marked `equivalent = "why"` changes no observable behaviour; it is run too and
-- reported, and does not fail the run when it survives. Prints a caught/survived table; exits 1
-- when any mutation survived, was stale, or the whole run exceeded --budget seconds.
local sys = require "introspect.sys"
local util = require "introspect.core.util"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")
local BUSTED = os.getenv("BUSTED") or "/usr/bin/busted"

local budget, jobs, only, check_only = tonumber(os.getenv("MUTATE_BUDGET") or "") or 900, 2, {}, false
for _, a in ipairs(arg) do
  local k, v = a:match("^%-%-(%w+)=(.*)$")
  if k == "budget" then budget = assert(tonumber(v), "--budget: a number of seconds")
  elseif k == "jobs" then jobs = assert(math.tointeger(tonumber(v)), "--jobs: an integer")
  elseif a == "--check" then check_only = true
  elseif k then error("mutate: unknown option --" .. k, 0)
  else only[a] = true end
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function exec(cmd)
  local ok, _, status = os.execute(cmd)
  return ok == true, status
end

local read = util.read_file

local function write(path, text)
  assert(util.write_file_atomic(path, text))
end

local list = dofile(SOURCE .. "/tests/mutate/mutations.lua")
local work = os.tmpname()
os.remove(work)
assert(exec("mkdir -p " .. sh_quote(work)))
-- The copies live at WORK/NAME, so the published data the specs read as ../shared is linked
-- beside them (when the tree has it; the specs themselves say when it is missing).
exec(string.format("[ -d %s/../shared ] && ln -s \"$(cd %s/../shared && pwd)\" %s/shared", sh_quote(SOURCE),
  sh_quote(SOURCE), sh_quote(work)))

-- copy(dest) -> a fresh copy of the tree's library, experiments, tests and docs at dest
local function copy(dest)
  assert(exec(string.format("mkdir -p %s && cd %s && cp -r scripts experiments tests docs %s/",
    sh_quote(dest), sh_quote(SOURCE), sh_quote(dest))), "cannot copy the tree to " .. dest)
end

-- count(text, s) -> number of plain occurrences of s in text
local function count(text, s)
  local n, pos = 0, 1
  while true do
    local i = text:find(s, pos, true)
    if not i then return n end
    n, pos = n + 1, i + 1
  end
end

-- spec_command(root, spec, log) -> shell command running one spec of the copy at root
local function spec_command(root, spec, log)
  return string.format("cd %s && INTROSPECT_PATH=%s INTROSPECT_SOURCE=%s INTROSPECT_BIN=%s "
    .. "timeout 600 %s %s --output=TAP --lpath=%s %s >>%s 2>&1",
    sh_quote(root), sh_quote(root .. "/scripts"), sh_quote(root), sh_quote(BIN), sh_quote(BIN), sh_quote(BUSTED),
    sh_quote(root .. "/tests/?.lua"), sh_quote(root .. "/tests/spec/" .. spec .. "_spec.lua"), sh_quote(log))
end

-- script(root, specs, log, status) -> shell script that runs specs until one fails and writes
-- "caught SPEC" or "survived" to the status file
local function script(root, specs, log, status)
  local parts = {}
  for _, s in ipairs(specs) do
    parts[#parts + 1] = string.format("if ! ( %s ); then echo 'caught %s' >%s; exit 0; fi",
      spec_command(root, s, log), s, sh_quote(status))
  end
  parts[#parts + 1] = "echo survived >" .. sh_quote(status)
  return table.concat(parts, "\n")
end

local started = sys.now()
local todo, stale, results = {}, {}, {}
local ids = {}
for i, m in ipairs(list) do
  assert(type(m.id) == "string" and type(m.file) == "string" and type(m.search) == "string"
    and type(m.replace) == "string" and type(m.specs) == "table" and #m.specs > 0,
    "mutation " .. i .. ": needs id, file, search, replace and specs")
  assert(not ids[m.id], "mutation id used twice: " .. m.id)
  ids[m.id] = true
  if next(only) == nil or only[m.id] then
    local text = read(SOURCE .. "/" .. m.file)
    local n = text and count(text, m.search) or 0
    if n ~= 1 then
      stale[#stale + 1] = string.format("%s: %s: search text %s (%s)", m.id, m.file,
        n == 0 and "not found" or ("found " .. n .. " times"), m.search:gsub("\n", "\\n"))
    else
      todo[#todo + 1] = m
    end
  end
end

if check_only then   -- --check: only that every search text is found exactly once
  for _, s in ipairs(stale) do io.write("STALE ", s, "\n") end
  io.write(string.format("mutate: %d mutations, %d stale\n", #todo + #stale, #stale))
  os.exit(#stale == 0 and 0 or 1)
end

-- Baseline: every spec used, once, on an unmutated copy.
local used, baseline = {}, {}
for _, m in ipairs(todo) do
  for _, s in ipairs(m.specs) do
    if not used[s] then used[s] = true; baseline[#baseline + 1] = s end
  end
end
local base_root = work .. "/baseline"
copy(base_root)
io.write(string.format("mutate: baseline (%d specs) ...\n", #baseline))
io.flush()
for _, s in ipairs(baseline) do
  local log = work .. "/baseline-" .. s .. ".log"
  if not exec(spec_command(base_root, s, log)) then
    io.write(read(log) or "", "\n")
    io.write(string.format("mutate: spec %s fails without any mutation (log above); fix it first\n", s))
    os.exit(1)
  end
end

-- Mutations, `jobs` at a time, each in its own copy.
local running, next_i = {}, 1
local function start(m, i)
  local root = string.format("%s/m%02d", work, i)
  copy(root)
  local path = root .. "/" .. m.file
  local text = read(path)
  local a = text:find(m.search, 1, true)
  write(path, text:sub(1, a - 1) .. m.replace .. text:sub(a + #m.search))
  local status, log = root .. "/status", root .. "/log"
  write(root .. "/run.sh", script(root, m.specs, log, status))
  exec(string.format("sh %s >/dev/null 2>&1 &", sh_quote(root .. "/run.sh")))
  running[#running + 1] = { m = m, status = status, log = log, root = root, t0 = sys.now() }
end
while next_i <= #todo or #running > 0 do
  while #running < jobs and next_i <= #todo do
    start(todo[next_i], next_i)
    next_i = next_i + 1
  end
  sys.sleep(0.2)
  for k = #running, 1, -1 do
    local r = running[k]
    local st = read(r.status)
    if st and st:find("\n") then
      local outcome = st:match("^(%S+)")
      results[#results + 1] = { m = r.m, caught = outcome == "caught", by = st:match("^caught (%S+)"),
        seconds = sys.now() - r.t0, log = r.log }
      io.write(string.format("mutate: %d/%d %s %s\n", #results, #todo, r.m.id, outcome))
      io.flush()
      if outcome == "caught" then exec("rm -rf " .. sh_quote(r.root)) end
      table.remove(running, k)
    end
  end
end

table.sort(results, function(a, b) return a.m.id < b.m.id end)
local survived, justified, caught = {}, 0, 0
io.write(string.format("\n%-34s %-26s %-9s %6s  %s\n", "mutation", "file", "result", "secs", "caught by / why"))
for _, r in ipairs(results) do
  local outcome, note
  if r.caught then
    caught = caught + 1
    outcome, note = "caught", r.by
  elseif r.m.equivalent then
    justified = justified + 1
    outcome, note = "equivalent", r.m.equivalent
  else
    outcome, note = "SURVIVED", "log: " .. r.log
    survived[#survived + 1] = r.m.id
  end
  io.write(string.format("%-34s %-26s %-9s %6.1f  %s\n", r.m.id, r.m.file:gsub("^scripts/introspect/", ""),
    outcome, r.seconds, note))
end
for _, s in ipairs(stale) do io.write("STALE ", s, "\n") end
local elapsed = sys.now() - started
local over = elapsed > budget
io.write(string.format("\nmutate: %d mutations: %d caught, %d equivalent (justified), %d survived, %d stale; "
  .. "%.0f s (budget %d s)%s\n", #results + #stale, caught, justified, #survived, #stale, elapsed, budget,
  over and " OVER BUDGET" or ""))
if #survived > 0 then io.write("mutate: survived: ", table.concat(survived, ", "), "\n") end
if #stale > 0 then io.write("mutate: stale mutations: update tests/mutate/mutations.lua to the moved code\n") end
if #survived == 0 and #stale == 0 and not over then exec("rm -rf " .. sh_quote(work)) end
os.exit((#survived > 0 or #stale > 0 or over) and 1 or 0)
