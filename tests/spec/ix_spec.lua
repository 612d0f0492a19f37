-- The REPL helpers on `ix` (introspect.repl.helpers, introspect.run.runview, introspect.core.tabular), on
-- the simulated subject in process; ix.open reads a small run made by experiments/paper.lua.
local ix = require "introspect"
local cjson = require "cjson"
local scenarios = require "introspect.design.scenarios"
local stats = require "introspect.stats"
local tabular = require "introspect.core.tabular"
local util = require "introspect.core.util"
local support = require "paper_support"

local ROOT = os.getenv("INTROSPECT_SOURCE") or "."

-- The library's contexts, built here independently of the helpers.
local function library_contexts()
  local list = assert(scenarios.load(ROOT .. "/experiments/scenarios/library.lua"))
  local roles = assert(scenarios.load_roles(ROOT .. "/experiments/scenarios/roles.lua"))
  return scenarios.contexts(list, roles, { count = math.min(#list, #roles) })
end

-- Column start positions of a formatted table's header line must match its rule line.
local function assert_aligned(text)
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  local rule_at
  for i, l in ipairs(lines) do if l:match("^%-+  %-") then rule_at = i break end end
  assert.is_truthy(rule_at, "no rule line in:\n" .. text)
  local starts = {}
  for pos in lines[rule_at]:gmatch("()%-+") do starts[#starts + 1] = pos end
  local header = lines[rule_at - 1]
  for _, pos in ipairs(starts) do
    assert.is_true(pos == 1 or header:sub(pos - 1, pos - 1) == " ", "header not aligned:\n" .. text)
  end
  return lines, rule_at
end

describe("introspect.core.tabular", function()
  it("aligns columns: numbers right, text left, floats with fixed decimals, nil empty", function()
    local t = tabular.new({ "name", "w" }, { { "price", -100 }, { "size", 42.5 }, { "colour", nil } },
      { title = "T", notes = { "note" } })
    assert.equal("T\nname        w\n------  -----\nprice    -100\nsize    42.50\ncolour\nnote", tostring(t))
    assert.same({ -100, 42.5 }, t:column("w"))
    assert.is_nil(t:column("nope"))
  end)

  it("shows at most max_rows rows and counts the rest", function()
    local rows = {}
    for i = 1, 30 do rows[i] = { i } end
    local text = tostring(tabular.new({ "i" }, rows, { max_rows = 5 }))
    assert.matches("\n5\n%.%.%. 25 more rows %(30 in all", text)
    assert.is_nil(text:find("\n6\n"))
  end)

  it("rejects bad arguments by name", function()
    assert.has_error(function() tabular.new("x", {}) end, "tabular.new: argument 1 (header) must be a list")
    assert.has_error(function() tabular.new({ "a" }, { 1 }) end, "tabular.new: row 1 is not a list")
    assert.error_matches(function() tabular.new({ "a" }, {}, { colour = 1 }) end, "unknown option 'colour'")
  end)
end)

describe("ix helpers on the simulated subject", function()
  local contexts = library_contexts()

  setup(function() ix.use({ seed = 11 }) end)

  it("ix.use rejects unknown options by name and reports the connection", function()
    assert.error_matches(function() ix.use({ modle = "x" }) end, "ix.use: unknown option 'modle'")
    assert.error_matches(function() ix.use({ backend = "nowhere" }) end, "unknown backend 'nowhere'")
    local conn = ix.use({ seed = 11 })
    assert.equal("sim", conn.backend)
    assert.equal("sim-large", conn.model)
    assert.matches("backend sim, model sim%-large", tostring(conn))
    assert.equal(#contexts, #conn.contexts)
  end)

  it("ix.contexts lists the library's contexts as an aligned table, first n or by search", function()
    local t = ix.contexts(5)
    assert.equal(5, #t.rows)
    for i = 1, 5 do
      assert.equal(i, t.rows[i][1])
      assert.equal(contexts[i].role, t.rows[i][3])
      assert.equal(contexts[i].question, t.contexts[i].question)
    end
    local lines, rule = assert_aligned(tostring(t))
    assert.matches("^%s*1  condos", lines[rule + 1])
    local tea = ix.contexts("tea")
    assert.is_true(#tea.rows >= 1)
    for _, c in ipairs(tea.contexts) do
      assert.is_truthy((c.question .. c.scenario.short_name):lower():find("tea", 1, true))
    end
    assert.error_matches(function() ix.contexts(1.5) end, "ix.contexts: argument 1")
  end)

  it("ix.models lists the backend's models", function()
    local t = ix.models()
    assert.same({ "sim-large", "sim-small" }, t.ids)
    assert_aligned(tostring(t))
  end)

  it("ix.choose shows a trial and the model's choice, the one the sim gives for that prompt", function()
    local r = ix.choose(3)
    assert.equal(contexts[3].question, r.context.question)
    assert.is_truthy(r.choice == "A" or r.choice == "B", tostring(r.reply))
    assert.equal(5, #r.trial.a)
    -- the same prompt sent directly to a fresh simulated API gives the same answer (T = 0)
    local api = require("introspect.sim").api()
    local prompts = require("introspect.design.prompts").default
    local res = api:handle({ method = "POST", path = "/v1/chat/completions",
      headers = { ["content-type"] = "application/json" },
      body = cjson.encode({ model = "sim-large", temperature = 0, messages = {
        { role = "system", content = prompts:system() },
        { role = "user", content = prompts:decision(r.context, r.trial) } } }) })
    assert.equal(r.choice, cjson.decode(res.body).choices[1].message.content)
    local text = tostring(r)
    assert.matches("choice: " .. r.choice, text)
    assert_aligned(text)
    assert.error_matches(function() ix.choose(100000) end, "ix.choose: context 100000 is not in the library")
    assert.error_matches(function() ix.choose("x") end, "ix.choose: argument 1 must be a context id")
  end)

  it("ix.report shows the parsed report beside the sim's actual weights (no target: a base model)", function()
    local r = ix.report(2)
    assert.is_nil(r.target)
    assert.same({ "attribute", "reported", "sim actual" }, r.header)
    assert.equal(5, #r.sim)
    if r.report then
      assert.equal(5, #r.report)
      for j = 1, 5 do assert.equal(r.report[j], r.rows[j][2]) end
    else
      assert.is_string(r.invalid)
    end
    for j = 1, 5 do assert.equal(r.sim[j], r.rows[j][3]) end
    assert_aligned(tostring(r))
  end)

  it("ix.report accepts a context table with its own target", function()
    local c = { question = contexts[4].question, scenario = contexts[4].scenario, target = { 1, 2, 3, 4, 5 } }
    local r = ix.report(c)
    assert.same({ 1, 2, 3, 4, 5 }, r.target)
  end)

  it("ix.measure fits n choices with 95% intervals, scaled so the largest |weight| is 100", function()
    local r = ix.measure(1, 300)
    assert.equal(300, r.n)
    assert.equal(300, #r.choices)
    assert.equal(300, r.valid)
    assert.is_nil(r.target)   -- a base model: nothing was instilled
    local biggest = 0
    for j = 1, 5 do
      assert.is_true(r.weights_lo[j] < r.weights[j] and r.weights[j] < r.weights_hi[j])
      biggest = math.max(biggest, math.abs(r.weights[j]))
    end
    assert.near(100, biggest, 1e-9)
    local max_coef = 0
    for j = 1, 5 do max_coef = math.max(max_coef, math.abs(r.coef[j])) end
    for j = 1, 5 do
      assert.near(r.coef[j] * 100 / max_coef, r.weights[j], 0.5)   -- the analysis rounds to integers
      assert.near(r.lo[j] * 100 / max_coef, r.weights_lo[j], 1e-9)
      assert.is_true(r.lo[j] < r.coef[j] and r.coef[j] < r.hi[j])
    end
    assert.equal(5, #r.sim)   -- an untrained subject's slopes, shown beside (range-distorted, see docs)
    assert.error_matches(function() ix.measure(1, 1) end, "ix.measure: argument 2")
  end)
end)

describe("ix.open and ix.measure on a run of experiments/paper.lua", function()
  local dir = support.tmpdir()
  local out, code = support.run("--contexts=20 --models=sim-small --trials=10 --reports=2 --out=" .. dir)

  it("ran the study", function() assert.equal(0, code, out) end)

  it("reads summary.json as an aligned table", function()
    local run = ix.open(dir)
    assert.same({ "sim-small" }, run:models())
    local s = run:summary()
    assert.equal(5, #s.rows)
    local summary = support.read_json(dir .. "/summary.json")
    assert.near(summary.models["sim-small"].reports.instilled.slope, s.rows[2][3], 1e-12)
    assert.equal("instilled", s.rows[2][2])
    assert_aligned(tostring(s))
    assert.matches("learned vs target r", tostring(s))
  end)

  it("reads targets, learned weights, selections and reports", function()
    local run = ix.open(dir .. "/")
    local targets = run:targets()
    assert.equal(40, #targets.rows)
    local learned = run:learned("sim-small")
    assert.equal(20, #learned.rows)
    assert.equal(20, #run:learned("sim-small", "native").rows)
    local sel = run:selections("sim-small")
    assert.equal(20 * 10, #sel.rows)
    assert.is_truthy(sel.rows[1][2] == "A" or sel.rows[1][2] == "B")
    assert.equal(20 * 20, #run:selections("sim-small", "native").rows)
    local reports = run:reports("sim-small", "itrained")
    assert.is_true(#reports.rows > 0 and #reports.rows <= 40)
    assert.matches("itrained%-first", reports.rows[1][1])
    assert.error_matches(function() run:reports("sim-small", "bogus") end, "argument 2 must be one of")
    local c = run:context(1, "sim-small")
    local name = run:contexts().rows[1][2]
    for j = 1, 5 do
      assert.equal(targets.weights[name][j], c.rows[j][2])
      assert.equal(learned.weights[name][j], c.rows[j][3])
    end
    assert.is_true(#c.header >= 4, tostring(c))
    for k = 4, #c.header do   -- each condition column is the mean report of one model in it
      local sums = {}
      for _, rep in ipairs(run:reports("sim-small", c.header[k]).reports) do
        if rep.scenario == name then
          local acc = sums[rep.model] or { n = 0, 0, 0, 0, 0, 0 }
          sums[rep.model] = acc
          acc.n = acc.n + 1
          for j = 1, 5 do acc[j] = acc[j] + rep.report[j] end
        end
      end
      local matched = false
      for _, acc in pairs(sums) do
        local same = true
        for j = 1, 5 do same = same and math.abs(acc[j] / acc.n - c.rows[j][k]) < 1e-9 end
        matched = matched or same
      end
      assert.is_true(matched, c.header[k])
    end
    assert.error_matches(function() ix.open(dir .. "/nope") end, "is not a run directory")
  end)

  it("measures the run's instilled model: weights close to the instilled targets", function()
    local manifest = support.read_json(dir .. "/manifest.json")
    local model
    for _, ft in pairs(manifest.fine_tunes) do
      if ft.model:match(":%d+%-instilled%-prefs%-%d+ex:") then model = ft.model end
    end
    assert.is_string(model)
    ix.use({ model = model, state_dir = dir .. "/sim-state", seed = 5 })
    assert.is_truthy(util.file_exists(dir .. "/sim-state"))
    local r = ix.measure(2, 300)
    local cor = assert(stats.pearson(r.weights, r.target))
    assert.is_true(cor.r > 0.9, "r with target = " .. cor.r)
    -- a fine-tuned subject knows the attribute ranges, so its actual weights are what the
    -- regression recovers: the intervals cover them (measured: 5 of 5 in 24 of 24 cases)
    cor = assert(stats.pearson(r.weights, r.sim))
    assert.is_true(cor.r > 0.95, "r with the sim's actual weights = " .. cor.r)
    local covered = 0
    for j = 1, 5 do
      if r.weights_lo[j] <= r.sim[j] and r.sim[j] <= r.weights_hi[j] then covered = covered + 1 end
    end
    assert.is_true(covered >= 4, covered .. " of 5 intervals cover the actual weights")
    local text = tostring(r)
    assert.matches("300 valid choices of 300", text)
    assert_aligned(text)
    ix.use({ seed = 11 })
  end)
end)

describe("ix on a URL backend (introspect serve over HTTP)", function()
  local url, pid = support.serve()
  teardown(function()
    require("introspect.sys").kill(pid, "TERM")
    ix.use({ seed = 11 })
  end)

  it("lists models and answers as the in-process subject does", function()
    local remote = ix.use({ backend = url, seed = 21 })
    assert.equal(url, remote.backend)
    assert.same({ "sim-large", "sim-small" }, ix.models().ids)
    local over_http = ix.choose(7)
    ix.use({ seed = 21 })
    local in_process = ix.choose(7)
    assert.same(in_process.trial, over_http.trial)
    assert.equal(in_process.choice, over_http.choice)
    ix.use({ backend = url, seed = 21 })
    local m = ix.measure(7, 60)
    assert.equal(60, m.valid)
  end)

  it("names a backend that cannot be used", function()
    assert.error_matches(function() ix.use({ backend = "sim", state_dir = 1 }) end, "option 'state_dir' must be string")
    assert.error_matches(function() ix.use({ backend = "local", state_dir = "x" }) end,
      "ix.use: option 'state_dir' applies only to backend 'sim'")
  end)
end)

describe("ix.help", function()
  it("lists every helper and the modules", function()
    local text = tostring(ix.help())
    for _, name in ipairs({ "use", "contexts", "models", "choose", "report", "measure", "open", "help" }) do
      assert.matches("ix%." .. name .. "[%({]", text)
      assert.is_function(ix[name])
    end
    assert.matches("tabular", text)
  end)
end)
