-- Public API named in docs/scripting.md and docs/serve.md that no other spec exercised: ix.use's
-- options reaching what they act on, run:manifest(), run:files(), tabular:print(),
-- curriculum.max_context, DELETE /v1/models/{id}, job checkpoints and rundir.save_manifest.
local cjson = require "cjson"
local S = require "sim_support"
local sim = require "introspect.sim"
local util = require "introspect.core.util"
local support = require "paper_support"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."

describe("ix.use options arrive where they act", function()
  local ix = require "introspect"

  it("seed fixes the trials; temperature 0 answers them identically, temperature 2 samples", function()
    -- (a fresh connection is a fresh simulated API, so only T=0 against T=2 on the same
    -- trials shows the temperature arriving: some of 40 answers flip)
    local function choices(opts)
      ix.use(opts)
      return ix.measure(1, 40).choices
    end
    local a, b = choices({ seed = 3 }), choices({ seed = 3 })
    assert.equal(a, b)
    ix.use({ seed = 3 })
    local t1 = ix.choose(1).trial
    ix.use({ seed = 4 })
    assert.are_not.same(t1, ix.choose(1).trial)
    local hot = choices({ seed = 3, temperature = 2 })
    assert.are_not.equal(a, hot)
    assert.equal(#a, #hot)
    assert.equal(2, ix.connection().temperature)
  end)

  it("logprobs gives P(A); max_tokens reaches the report request", function()
    ix.use({ seed = 1 })
    assert.is_nil(ix.choose(1).p_a)
    ix.use({ seed = 1, logprobs = true })
    local pa = ix.choose(1).p_a
    assert.is_number(pa)
    assert.is_true(pa > 0 and pa < 1)
    ix.use({ seed = 1, max_tokens = 3 })
    local r = ix.report(1)
    assert.is_nil(r.report)   -- a JSON report cut at 3 tokens does not parse
    ix.use({ seed = 1 })
    assert.is_table(ix.report(2).report or ix.report(3).report or ix.report(4).report)
  end)

  it("scenarios and roles load another library; model picks the served model", function()
    local conn = ix.use({ seed = 1, scenarios = SOURCE .. "/experiments/scenarios/three_attributes.lua",
      model = "sim-small" })
    assert.equal(3, #conn.contexts[1].scenario.attributes)
    assert.equal("sim-small", conn.model)
    assert.matches("%[sim%-small%]", tostring(ix.choose(1)))
    ix.use({ seed = 1 })
  end)

  it("roles loads another list of roles: the contexts pair the scenarios with those", function()
    local path = os.tmpname() .. ".lua"
    local list = {}
    for i = 1, 30 do list[i] = string.format("%q", "a test role number " .. i) end
    assert(util.write_file_atomic(path, "return {" .. table.concat(list, ", ") .. "}\n"))
    local conn = ix.use({ seed = 1, roles = path })
    os.remove(path)
    assert.equal(30, #conn.contexts)   -- one context per role: fewer roles than scenarios
    for _, c in ipairs(conn.contexts) do
      assert.matches("^a test role number %d+$", c.role)
      assert.truthy(c.question:find(c.role, 1, true))
    end
    -- the default list again: more roles, more contexts
    assert.is_true(#ix.use({ seed = 1, roles = SOURCE .. "/experiments/scenarios/roles.lua" }).contexts > 30)
  end)
end)

describe("run views and tables", function()
  local dir = support.tmpdir()
  local out, code = support.run("--contexts=20 --models=sim-large --trials=10 --reports=2 --out=" .. dir)
  assert(code == 0, out)
  local runview = require "introspect.run.runview"

  it("run:manifest() is manifest.json; run:files() lists every file with its size", function()
    local run = runview.open(dir)
    local m = run:manifest()
    assert.equal(20, m.options.contexts)
    assert.same(cjson.decode(util.read_file(dir .. "/manifest.json")), m)
    local files = run:files()
    local names, sizes = files:column("file"), files:column("bytes")
    local seen = {}
    for i, name in ipairs(names) do seen[name] = sizes[i] end
    assert.equal(#util.read_file(dir .. "/summary.json"), seen["summary.json"])
    assert.equal(#util.read_file(dir .. "/sim-large_regression_results.csv"), seen["sim-large_regression_results.csv"])
  end)

  it("tabular:print() writes the formatted table and a newline to standard output", function()
    local tabular = require "introspect.core.tabular"
    local t = tabular.new({ "attribute", "weight" }, { { "price", -100 }, { "size", 42.5 } })
    local path = os.tmpname()
    local saved = io.stdout
    io.stdout = assert(io.open(path, "w"))   -- luacheck: ignore 122
    local ok, err = pcall(t.print, t)
    io.stdout:close()
    io.stdout = saved   -- luacheck: ignore 122
    assert(ok, err)
    local text = util.read_file(path)
    os.remove(path)
    assert.equal(t:format() .. "\n", text)
    assert.matches("price", text)
    assert.matches("42%.50", text)
  end)
end)

describe("curriculum.max_context", function()
  local curriculum = require "introspect.design.curriculum"
  it("is the largest context id the curriculum trains, validates or evaluates on", function()
    -- all_100 evaluates on the native contexts n+1..2n
    for _, case in ipairs({ { "first_50", 20, 20 }, { "last_50", 20, 20 }, { "all_100", 40, 80 } }) do
      local c = assert(curriculum.load(SOURCE .. "/experiments/curricula/" .. case[1] .. ".lua", { n = case[2] }))
      assert.equal(case[3], curriculum.max_context(c), case[1])
    end
    local path = os.tmpname()
    util.write_file_atomic(path, 'return { name = "early", train = { 1, 3 }, evaluate = { 4, 6 }, '
      .. 'condition = "itrained", examples_per_context = 1, labels = "target", template = "report", seed = 6 }')
    local c = assert(curriculum.load(path, { n = 100 }))
    os.remove(path)
    assert.equal(6, curriculum.max_context(c))
  end)
end)

describe("the simulated API's models and checkpoints", function()
  local api = sim.api({ job_duration = 0 })
  local call = S.client(api)
  local contexts = S.contexts(12)
  local body, ctype = S.multipart("fine-tune", "train.jsonl", S.choice_file(contexts, S.weights(contexts), 4))
  local _, file = call("POST", "/v1/files", body, { ["content-type"] = ctype })
  local status, job = call("POST", "/v1/fine_tuning/jobs", { model = "sim-small", training_file = file.id,
    suffix = "api", seed = 4, hyperparameters = { n_epochs = 2, batch_size = 4 } })
  assert(status == 200, cjson.encode(job))
  local _, done = call("GET", "/v1/fine_tuning/jobs/" .. job.id)

  it("lists one checkpoint of a succeeded job, at its last step", function()
    assert.equal("succeeded", done.status)
    local st, list = call("GET", "/v1/fine_tuning/jobs/" .. job.id .. "/checkpoints")
    assert.equal(200, st)
    assert.equal(1, #list.data)
    local ck = list.data[1]
    local steps = math.ceil(12 * 4 / 4) * 2
    assert.equal(steps, ck.step_number)
    assert.equal(done.fine_tuned_model .. ":ckpt-step-" .. steps, ck.fine_tuned_model_checkpoint)
    assert.equal(job.id, ck.fine_tuning_job_id)
    assert.equal(404, (call("GET", "/v1/fine_tuning/jobs/ftjob-nope/checkpoints")))
  end)

  it("DELETE /v1/models/{id} deletes a fine-tune (then 404 everywhere), never a base model", function()
    local id = done.fine_tuned_model
    assert.equal(200, (call("GET", "/v1/models/" .. id)))
    local st, res = call("DELETE", "/v1/models/" .. id)
    assert.equal(200, st)
    assert.same({ id = id, object = "model", deleted = true }, res)
    assert.equal(404, (call("GET", "/v1/models/" .. id)))
    assert.equal(404, (call("DELETE", "/v1/models/" .. id)))
    local chat = call("POST", "/v1/chat/completions", { model = id, messages = { { role = "user", content = "hi" } } })
    assert.equal(404, chat)
    local base_status, err = call("DELETE", "/v1/models/sim-small")
    assert.equal(403, base_status)
    assert.equal("model_not_deletable", err.error.code)
    assert.equal(200, (call("GET", "/v1/models/sim-small")))
  end)
end)

describe("rundir.save_manifest", function()
  it("writes the manifest as it is now, secrets scrubbed, atomically", function()
    local rundir = require "introspect.run.rundir"
    local dir = support.tmpdir()
    local run = assert(rundir.open(dir, { name = "t" }))
    run.manifest.note = "kept"
    run.manifest.api_key = "sk-should-not-appear-1234567890"
    assert.is_true(run:save_manifest())
    local text = util.read_file(dir .. "/manifest.json")
    local m = cjson.decode(text)
    assert.equal("kept", m.note)
    assert.is_nil(text:find("sk-should-not-appear", 1, true))
    assert.same({}, (function()
      local left = {}
      for _, f in ipairs(support.files(dir)) do if f:match("%.tmp") then left[#left + 1] = f end end
      return left
    end)())
    run:close()
  end)
end)
