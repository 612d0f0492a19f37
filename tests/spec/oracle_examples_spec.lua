-- Correctness oracle for the example experiments (curriculum.lua, new-domain.lua): their choices
-- and learned weights checked against the simulated subject's ground truth (api:truth, rebuilt
-- from each run's sim-state/ and responses.sqlite by tests/lib/oracle.lua) and against plain
-- IRLS fits of their CSVs. Bounds come from the design's size, never from another run.
local O = require "lib.oracle"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")

local function run(script, args)
  local dir = os.tmpname()
  os.remove(dir)
  local p = io.popen(string.format("cd '%s' && '%s' experiments/%s %s --out=%s 2>&1; echo \"exit=$?\"", SOURCE, BIN,
    script, args, dir))
  local out = p:read("a")
  p:close()
  assert(out:match("exit=0%s*$"), out)
  return dir
end

-- prompts_by_values(truth) -> decision prompts keyed by their option values alone
local function prompts_by_values(truth)
  local out = {}
  for _, p in ipairs(truth.prompts) do
    if p.kind == "decision" then out[O.trial_key("", p.parsed.a, p.parsed.b)] = p end
  end
  return out
end

-- check_choices(truth, groups) -> agreement, expected, sd over all recorded choices (see
-- oracle.choice_agreement): each must be the subject's answer to its exact prompt.
local function check_choices(truth, groups)
  local by_values, items = prompts_by_values(truth), {}
  for _, s in ipairs(groups.order) do
    local g = groups[s]
    for i, row in ipairs(g.rows) do
      local p = assert(by_values[O.trial_key("", row.a, row.b)],
        s .. " row " .. i .. ": no prompt showed these options")
      assert.equal(O.ask(truth, p.body), row.selection, s .. " row " .. i)
      items[#items + 1] = { model = p.model, messages = p.body.messages, selection = row.selection }
    end
  end
  return O.choice_agreement(truth, items)
end

describe("curriculum.lua against the subject's ground truth", function()
  local dir = run("curriculum.lua", "--contexts=20 --trials=60 --reports=2")
  local ranges = O.ranges(dir .. "/scenarios.csv")
  local truth = O.subject(dir)
  local groups = O.selections(dir .. "/instilled_selections.csv", ranges)
  local learned = O.weights(dir .. "/learned_weights.csv")

  it("records every choice as the subject made it, on the side its noise implies", function()
    local agree, expected, sd = check_choices(truth, groups)
    assert.is_true(math.abs(agree - expected) < 4 * sd + 0.01,
      string.format("%.3f of the choices follow the true utility; the noise implies %.3f", agree, expected))
  end)

  it("learns the instilled model's actual weights within the design's standard errors", function()
    local c = O.compare(groups, learned, function(g, s)
      return O.actual(truth, g.model, ranges[s].question)
    end)
    assert.is_true(c.z2 < 2.5, "mean squared standardized error " .. c.z2)
    assert.is_true(c.r > c.r_design - 0.1,
      string.format("r(learned, actual) %.3f, design implies %.3f", c.r, c.r_design))
    assert.is_true(c.r_ref > 0.9, "r(learned, IRLS reference) " .. c.r_ref)
  end)
end)

describe("new-domain.lua against the subject's ground truth", function()
  local dir = run("new-domain.lua", "--contexts=8 --choices=80 --reports=3")
  local list = dofile(SOURCE .. "/experiments/scenarios/three_attributes.lua")
  local ranges = {}
  for _, sc in ipairs(list) do
    local r = { min = {}, max = {}, names = {} }
    for j, a in ipairs(sc.attributes) do r.names[j], r.min[j], r.max[j] = a.name, a.min, a.max end
    ranges[sc.short_name] = r
  end
  local truth = O.subject(dir)
  local groups = O.selections(dir .. "/selections.csv", ranges)
  local t = O.read_csv(dir .. "/rankings.csv")
  local learned = {}
  for _, row in ipairs(t.rows) do
    learned[row.scenario] = learned[row.scenario] or {}
    local w = learned[row.scenario]
    w[#w + 1] = assert(tonumber(row.learned_weight))
  end

  it("records every choice as the subject made it, on the side its noise implies", function()
    local agree, expected, sd = check_choices(truth, groups)
    assert.is_true(math.abs(agree - expected) < 4 * sd + 0.01,
      string.format("%.3f of the choices follow the true utility; the noise implies %.3f", agree, expected))
  end)

  it("learns the weights the subject's true utilities imply", function()
    -- an untrained subject reads each value on its order of magnitude: its effective weights
    -- on the study's predictors (oracle.effective)
    local by_values = prompts_by_values(truth)
    local c = O.compare(groups, learned, function(g)
      local items = {}
      for i, row in ipairs(g.rows) do
        local p = by_values[O.trial_key("", row.a, row.b)]
        items[i] = { model = p.model, messages = p.body.messages }
      end
      return O.effective(truth, items, g.X)
    end)
    assert.is_true(c.r_ref > 0.9, "r(learned, IRLS reference) " .. c.r_ref)
    assert.is_true(c.r > c.r_design - 0.15,
      string.format("r(learned, truth) %.3f, design implies %.3f", c.r, c.r_design))
    assert.is_true(c.z2 < 4, "mean squared standardized error " .. c.z2)
  end)
end)
