-- study.session refuses what it can before anything is created, written or sent (issue 15): the
-- API key, the models (against the backend's list), what is unpriced under max_cost, another
-- run's directory; a dry run neither creates `out` nor writes into an existing run; the plan
-- shows unpriced rows as unpriced.
local study = require "introspect.study"
local util = require "introspect.core.util"

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

-- Every file under dir with its content (to compare a directory before and after).
local function snapshot(dir)
  local p = io.popen("find '" .. dir .. "' -type f | LC_ALL=C sort")
  local out = {}
  for path in p:lines() do out[path] = util.read_file(path) end
  p:close()
  return out
end

-- session.new's error (raised with level 0) as a string.
local function refusal(opts)
  local ok, err = pcall(study.session, opts)
  assert.is_false(ok, "the session should have been refused")
  return tostring(err)
end

describe("study.session checks before anything is created", function()
  it("refuses a typo'd model naming the available ones, and creates nothing", function()
    local dir = tmpdir()
    local err = refusal({ out = dir, models = { "sim-lrge" } })
    assert.equal("model 'sim-lrge' is not offered by the simulated subject (available, closest first: "
      .. "sim-large, sim-small)", err)
    assert.is_false(util.file_exists(dir))
  end)

  it("takes the server's own base models for models = {}, and checks nothing without models", function()
    local s = study.session({ out = tmpdir(), models = {} })
    assert.same({ "sim-large", "sim-small" }, s.models)
    s:close()
    s = study.session({ out = tmpdir(), backend = "http://127.0.0.1:9/v1", max_cost = 1 })
    assert.is_nil(s.models)   -- an experiment that names no models is not refused for the server's list
    s:close()
  end)

  it("resolves the backend's models and records them", function()
    local dir = tmpdir()
    local s = study.session({ out = dir, models = { "sim-large" } })
    assert.same({ "sim-large" }, s.models)
    assert.same({ "sim-large" }, s.run.manifest.models)
    -- the subject answers in its own thread, with its state in the run directory
    assert.equal("introspect.sim.thread", getmetatable(s.client.transport).__name)
    assert.is_true(util.file_exists(dir .. "/sim-state"))
    s:close()
  end)

  it("refuses an unpriced model under max_cost naming how to price it, and creates nothing", function()
    local dir = tmpdir()
    -- a server that is not there: the prices are checked before the backend is asked anything
    local err = refusal({ out = dir, backend = "http://127.0.0.1:9/v1", models = { "gpt-4o-2024-11-20" },
      max_cost = 5 })
    assert.matches("no price for model 'gpt-4o-2024-11-20'", err, 1, true)
    assert.is_false(util.file_exists(dir))
  end)

  it("checks logprobs and batch against the backend's capabilities before anything is created", function()
    local backend = require "introspect.client.backend"
    backend.define("no-extras", { base_urls = { "http://127.0.0.1:9/v1" }, api_key = "none",
      capabilities = { logprobs = false, batch = false } })
    local dir = tmpdir()
    assert.equal("backend no-extras returns no logprobs: leave out --logprobs",
      refusal({ out = dir, backend = "no-extras", models = { "m" }, logprobs = true }))
    assert.equal("backend no-extras has no Batch API: leave out --batch",
      refusal({ out = dir, backend = "no-extras", models = { "m" }, batch = true }))
    assert.is_false(util.file_exists(dir))
    backend.profiles["no-extras"] = nil
  end)

  it("prices an unpriced model from a prices file", function()
    local prices = os.tmpname()
    assert(util.write_file_atomic(prices, '{"gpt-4o-2024-11-20": {"input": 2.5, "output": 10, "training": 25}}'))
    local s = study.session({ out = tmpdir(), backend = "openai", models = { "gpt-4o-2024-11-20" }, dry_run = true,
      prices = prices })
    assert.same({}, s.meter:unpriced_models(s.models))
    s:close()
    local bad = os.tmpname()
    assert(util.write_file_atomic(bad, '{"m": {"input": 1, "output": 2, "trainig": 3}}'))
    assert.matches(bad .. ": model 'm': unknown field 'trainig'", refusal({ out = tmpdir(), prices = bad }), 1, true)
    os.remove(prices); os.remove(bad)
  end)

  it("refuses another backend, other models or another design in a run's directory, touching nothing", function()
    local dir = tmpdir()
    local s = study.session({ out = dir, models = { "sim-small" }, design = { contexts = 20, trials = 10 } })
    s:write("x.csv", "a,b\n")
    s:close()
    local before = snapshot(dir)
    local err = refusal({ out = dir, models = { "sim-large" }, design = { contexts = 20, trials = 10 } })
    assert.matches(dir .. " holds another run (models sim-small, started ", err, 1, true)
    assert.matches("this one has models sim-large. Use --out=DIR", err, 1, true)
    err = refusal({ out = dir, models = { "sim-small" }, design = { contexts = 20, trials = 50 } })
    assert.matches("(design: trials 10, started ", err, 1, true)
    assert.matches("this one has design: trials 50.", err, 1, true)
    assert.same(before, snapshot(dir))
    -- the same identity resumes
    s = study.session({ out = dir, models = { "sim-small" }, design = { contexts = 20, trials = 10 } })
    assert.is_true(s.run.resumed)
    s:close()
  end)

  it("plans a dry run in a scratch directory: out is neither created nor written", function()
    local dir = tmpdir()
    local s = study.session({ out = dir, backend = "openai", models = { "gpt-4o-2024-11-20" }, dry_run = true,
      max_cost = 5 })
    local scratch = s.run.dir
    assert.are_not.equal(dir, scratch)
    s:write("planned.txt", "x")
    local stim = study.stimuli(s, study.inputs({ contexts = 2, scenarios = "experiments/scenarios/library.lua",
      roles = "experiments/scenarios/roles.lua" }))
    local ctx = study.pick(stim.contexts, study.ids(1, 2))
    s:choices({ name = "choices", model = "gpt-4o-2024-11-20", contexts = ctx, per_context = 3, seed = 1 })
    local out = study.finish(s, {})
    assert.is_false(util.file_exists(dir))
    assert.is_false(util.file_exists(scratch), "the scratch directory is removed")
    assert.matches("choices +6 +%d+ +unpriced", out.plan_text)
    assert.matches("no price for model 'gpt-4o-2024-11-20'", out.plan_text, 1, true)
    assert.matches("under --max-cost the run would refuse to start", out.plan_text, 1, true)
    assert.is_nil(out.plan_text:match("%$0%.00"))
  end)

  it("never writes into an existing run when dry", function()
    local dir = tmpdir()
    study.session({ out = dir, models = { "sim-small" } }):close()
    local before = snapshot(dir)
    local s = study.session({ out = dir, models = { "sim-large" }, dry_run = true })
    s:write("manifest.json", "{}")
    s:close()
    assert.same(before, snapshot(dir))
  end)

  it("needs --models for a dry run on a real backend (it cannot ask the server)", function()
    assert.matches("a dry run on backend openai needs --models",
      refusal({ out = tmpdir(), backend = "openai", models = {}, dry_run = true }), 1, true)
  end)
end)

describe("backend.client", function()
  it("names the missing API key's variable in one line", function()
    if os.getenv("TOGETHER_API_KEY") then pending("TOGETHER_API_KEY is set here") return end
    local dir = tmpdir()
    local err = refusal({ out = dir, backend = "together", models = { "m" } })
    assert.equal("backend 'together' needs an API key: set the environment variable TOGETHER_API_KEY", err)
    assert.is_false(util.file_exists(dir))
  end)
end)
