-- The REPL helpers on a finished run (issue 15 item 7): ix.use("runs/x") attaches to the run
-- (its backend and simulated state) and names its models by condition; a base model's report has
-- no target column; usage errors are one line (no traceback); ix.help() explains every column;
-- ix.measure is the study's analysis (analysis.fit_weights), not a copy of it.
local analysis = require "introspect.analysis"
local helpers = require "introspect.repl.helpers"
local tabular = require "introspect.core.tabular"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

local dir
setup(function()
  dir = os.tmpname()
  os.remove(dir)
  local out, code = sh(string.format("cd '%s' && '%s' experiments/paper.lua --contexts=20 --models=sim-large "
    .. "--trials=10 --reports=2 --curricula=first_50 --out='%s'", SOURCE, BIN, dir))
  assert(code == 0, out)
end)
teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

describe("ix.use(run directory)", function()
  it("names the run's models by condition and uses its simulated state", function()
    local conn = helpers.use(dir)
    assert.same({ "base", "instilled", "itrained_first_50" }, conn.run_names)
    assert.equal("instilled", conn.model_name)
    assert.matches("^ft:sim%-large:", conn.model)
    assert.matches("run " .. dir .. "; its models: base, instilled, itrained_first_50", tostring(conn), 1, true)
    -- a fine-tuned model of the run answers (it exists only in the run's sim-state)
    local r = helpers.report(1)
    assert.same({ "attribute", "reported", "target", "sim actual" }, r.header)
    assert.is_table(r.target)
    local instilled = conn.model
    local t = helpers.use({ model = "itrained_first_50" })
    assert.matches("^ft:sim%-large:", t.model)
    assert.are_not.equal(instilled, t.model)
    assert.equal(dir, t.run)
  end)

  it("shows no target for a base model", function()
    helpers.use(dir, { model = "base" })
    local r = helpers.report(1)
    assert.equal("sim-large", helpers.connection().model)
    assert.same({ "attribute", "reported", "sim actual" }, r.header)
    assert.is_nil(r.target)
  end)

  it("refuses an unknown model in one line naming the run's models", function()
    local ok, err = pcall(helpers.use, dir, { model = "instiled" })
    assert.is_false(ok)
    assert.matches("this run's models by condition: base, instilled, itrained_first_50", tostring(err), 1, true)
  end)
end)

describe("ix.measure", function()
  it("gives the analysis's own weights for its choices", function()
    helpers.use({ backend = "sim", model = "sim-large", seed = 3 })
    local m = helpers.measure(1, 40)
    local ctx = m.context
    local w = analysis.fit_weights(m.selections, analysis.ranges_from_scenarios({ ctx.scenario }),
      { method = "posterior", seed = 1 })
    assert.same(w[ctx.scenario.short_name], m.weights)
    for j = 1, #m.weights do
      assert.is_true(m.weights_lo[j] <= m.weights[j] + 1 and m.weights[j] <= m.weights_hi[j] + 1)
    end
  end)
end)

describe("REPL messages", function()
  it("usage errors are one line without a traceback", function()
    local out = sh(string.format("'%s' -e \"ix = require 'introspect' ix.use{modle = 1}\"", BIN))
    assert.matches("ix.use: unknown option 'modle'", out, 1, true)
    assert.is_nil(out:find("traceback", 1, true))
    out = sh(string.format("'%s' -e \"ix = require 'introspect' ix.measure(1, 1)\"", BIN))
    assert.matches("ix.measure: argument 2 (n) must be an integer >= 2", out, 1, true)
    assert.is_nil(out:find("traceback", 1, true))
  end)

  it("ix.help() explains every column the helpers print", function()
    local text = tostring(helpers.help())
    for _, col in ipairs({ "reported", "target", "sim actual", "measured", "95% lo", "slope", "sd", "ESS",
      "Pareto k", "intercept", "P(A)" }) do
      assert.matches("\n  " .. col:gsub("%p", "%%%0"), text)
    end
    assert.is_true(getmetatable(helpers.help()) ~= nil and tabular ~= nil)
  end)
end)
