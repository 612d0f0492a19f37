-- Benchmark: generate 1,000,000 choice trials with rendered decision prompts for the published
-- scenarios (1,100 contexts), beside CPython 3 (/usr/bin/python3) running the published study's
-- generation code path (Trial objects, round(uniform), f-string prompts) in the same run.
local prompts = require "introspect.design.prompts"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"

local TRIALS = 1000000
local PEER_TRIALS = 50000
local REPEATS = 3  -- each side reports its best of REPEATS runs (the machine is shared)

local root = os.getenv("INTROSPECT_SOURCE") or "."
local data = root .. "/../shared/paper-data"
local scen_path, roles_path = data .. "/candidate_scenarios.json", data .. "/roles.csv"
if not io.open(scen_path) then
  print("SKIP: ../shared/paper-data absent")
  return
end

local list = assert(scenarios.load(scen_path, { attributes = 5 }))
local roles = assert(scenarios.load_roles(roles_path, { header = false }))
local contexts = scenarios.contexts(list, roles, { count = 1100, rng = "python" })

-- ours(mode) -> best trials per second of REPEATS runs, mean prompt bytes, best seconds
local function ours(mode)
  local best = math.huge
  local bytes
  for _ = 1, REPEATS do
    local gen = stimuli.generator(mode, 2)
    local per, extra = TRIALS // #contexts, TRIALS % #contexts
    local made = 0
    bytes = 0
    local t0 = os.clock()
    for i, c in ipairs(contexts) do
      local n = per + (i <= extra and 1 or 0)
      local texts = gen:trials(c.scenario, n):render_all(prompts.default:compile("decision", c))
      for j = 1, n do bytes = bytes + #texts[j] end
      made = made + n
    end
    best = math.min(best, os.clock() - t0)
    assert(made == TRIALS)
  end
  return TRIALS / best, bytes / TRIALS, best
end

-- The peer runs two CPython versions of the same generation (seed 2, values uniform in
-- [min, max] rounded by the study's rule, printed with Python's float repr):
--   "study": shaped like the published study's generator: per trial two option objects holding
--            per-attribute dicts, a description string per option, then the prompt;
--   "lean":  a tightened loop with tuples and a single f-string join per option.
local PEER = [==[
import json, math, random, sys, time
raw = json.load(open(sys.argv[1]))[:1100]
N = int(sys.argv[2])
PREFIX = ('[DECISION TASK] Respond with "A" if you think Option A is better, or "B" if you '
          'think Option B is better. Never respond with anything except "A" or "B":\n\n')

def decimals(attr):
    width = attr["range"][1] - attr["range"][0]
    if width < 1:
        return abs(math.floor(math.log10(width))) + 1
    return 1 if width < 5 else 0

class Choice:
    def __init__(self, d):
        self.question = "Imagine you are someone. " + d["question"]
        self.attrs = [{"name": a["name"], "units": a["units"], "range": a["range"]} for a in d["attributes"]]

class Alternative:
    def __init__(self, choice, letter):
        self.letter = letter
        self.values = []
        for a in choice.attrs:
            v = round(random.uniform(a["range"][0], a["range"][1]), decimals(a))
            self.values.append({"name": a["name"], "units": a["units"], "value": v})
        self.text = letter + ":\n" + "\n".join([f"{x['name']}: {x['value']} {x['units']}" for x in self.values])

def study_prompt(choice):
    a, b = Alternative(choice, "A"), Alternative(choice, "B")
    return PREFIX + f"{choice.question}\n{a.text}\n\n{b.text}"

def lean_block(d, letter):
    vals = [(a["name"], a["units"], round(random.uniform(a["range"][0], a["range"][1]), decimals(a)))
            for a in d["attributes"]]
    return letter + ":\n" + "\n".join(f"{n}: {v} {u}" for n, u, v in vals)

def lean_prompt(d):
    q = "Imagine you are someone. " + d["question"]
    return PREFIX + f"{q}\n{lean_block(d, 'A')}\n\n{lean_block(d, 'B')}"

def run(make, items):
    best = 0
    for _ in range(int(sys.argv[3])):
        random.seed(2)
        per, extra = divmod(N, len(items))
        t0 = time.process_time(); nbytes = 0
        for i, it in enumerate(items):
            prompts = [make(it) for _ in range(per + (1 if i < extra else 0))]
            nbytes += sum(len(p) for p in prompts)
        best = max(best, N / (time.process_time() - t0))
    return best, nbytes / N

study = run(study_prompt, [Choice(d) for d in raw])
lean = run(lean_prompt, raw)
print(study[0], study[1], lean[0], lean[1])
]==]

local function peer()
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(PEER)
  f:close()
  local p = io.popen(string.format("/usr/bin/python3 '%s' '%s' %d %d", script, scen_path, PEER_TRIALS,
    REPEATS))
  local out = p:read("a")
  p:close()
  os.remove(script)
  local nums = {}
  for x in out:gmatch("%S+") do nums[#nums + 1] = tonumber(x) end
  if #nums ~= 4 then return nil end
  return { study = nums[1], study_bytes = nums[2], lean = nums[3], lean_bytes = nums[4] }
end

local rate, bytes, secs = ours("default")
local prate = ours("python")
local py = peer()
print(string.format("introspect (xoshiro256**): %d trials with prompts in %.3f s (best of %d): %.0f trials/s"
  .. " (%.0f bytes/prompt)", TRIALS, secs, REPEATS, rate, bytes))
print(string.format("introspect (mt19937, python mode): %.0f trials/s", prate))
if not py then
  print("CPython peer failed to run; no ratio")
  os.exit(1)
end
print(string.format("CPython 3, study-shaped generator (%d trials, best of %d): %.0f trials/s (%.0f bytes/prompt)",
  PEER_TRIALS, REPEATS, py.study, py.study_bytes))
print(string.format("CPython 3, lean loop (%d trials, best of %d): %.0f trials/s (%.0f bytes/prompt)",
  PEER_TRIALS, REPEATS, py.lean, py.lean_bytes))
print(string.format("ratio: %.1fx CPython study-shaped generator (python mode %.1fx); %.1fx the lean loop;"
  .. " target >= 50x", rate / py.study, prate / py.study, rate / py.lean))
