-- experiments/paper.lua end to end on the simulated subject, at a small size: the run directory's
-- files in the published layout, summary.json's schema, the report, the dry run, and resuming
-- after SIGKILL at several points with byte-identical results and no stored request sent again.
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local sys = require "introspect.sys"
local util = require "introspect.core.util"
local support = require "paper_support"

local BIN, SMALL = support.BIN, support.SMALL
local tmpdir, run, read_json, sqlite_count = support.tmpdir, support.run, support.read_json, support.sqlite_count

local OUTPUTS = {
  "scenarios.csv", "instilled_weights.csv", "instill_20_prefs.jsonl", "instill_20_prefs_val.jsonl",
  "instilled_weights_10_training_test_last.jsonl", "instilled_weights_10_test_test_last.jsonl",
  "instilled_weights_10_training.jsonl", "instilled_weights_10_test.jsonl", "instilled_weights_20_training.jsonl",
  "sim-large_weight_reports.csv", "sim-large_instilled_weight_reports.csv",
  "sim-large_itrained_first_10_of_20_50ex_weight_reports.csv",
  "sim-large_itrained_last_10_of_20_50ex_weight_reports.csv",
  "sim-large_instilled_latent_weight_reports.csv", "sim-large_itrained_all_20_50ex_latent_weight_reports.csv",
  "sim-large_instilled_selections.csv", "sim-large_instilled_latent_selections.csv",
  "sim-large_regression_results.csv", "sim-large_latent_regression_results.csv",
  "replies/sim-large_reports_instilled.jsonl", "replies/sim-large_choices_native.jsonl",
}

describe("experiments/paper.lua", function()
  local dir = tmpdir()
  local out, code = run(SMALL .. " --out=" .. dir)

  it("runs the whole study on the simulated subject and says where the report is", function()
    assert.equal(0, code, out)
    assert.matches("report:  " .. dir:gsub("%p", "%%%0") .. "/report.html", out)
  end)

  it("writes every file in the published layout", function()
    for _, name in ipairs(OUTPUTS) do
      assert.is_true(util.file_exists(dir .. "/" .. name), name)
    end
    local sel = assert(csv.read(dir .. "/sim-large_instilled_selections.csv"))
    assert.same({ "model", "scenario", "selection", "A_attribute_1", "A_attribute_2", "A_attribute_3",
      "A_attribute_4", "A_attribute_5", "B_attribute_1", "B_attribute_2", "B_attribute_3", "B_attribute_4",
      "B_attribute_5" }, sel.header)
    assert.equal(20 * 20, #sel.rows)
    assert.matches("^ft:sim%-large:", sel.rows[1].model)
    local rep = assert(csv.read(dir .. "/sim-large_instilled_weight_reports.csv"))
    assert.equal("explaining_model", rep.header[1])
    assert.equal("report_attr5", rep.header[8])
    assert.is_true(#rep.rows > 0 and #rep.rows <= 60)
    local native = assert(csv.read(dir .. "/sim-large_instilled_latent_selections.csv"))
    assert.equal(20 * 40, #native.rows)
    local learned = assert(csv.read(dir .. "/sim-large_regression_results.csv"))
    assert.same({ "scenario", "b_attr1", "b_attr2", "b_attr3", "b_attr4", "b_attr5" }, learned.header)
    assert.equal(20, #learned.rows)
  end)

  it("keeps every reply raw, valid or not", function()
    local text = util.read_file(dir .. "/replies/sim-large_reports_instilled.jsonl")
    assert.equal(60, select(2, text:gsub("\n", "")))
    text = util.read_file(dir .. "/replies/sim-large_choices_native.jsonl")
    assert.equal(800, select(2, text:gsub("\n", "")))
    local first = cjson.decode(text:match("^[^\n]+"))
    assert.is_string(first.scenario)
    assert.is_string(first.reply)
  end)

  it("writes summary.json in the statistics schema, with the backend and phase timings", function()
    local s = read_json(dir .. "/summary.json")
    local m = s.models["sim-large"]
    assert.is_number(m.learned_vs_target.r)
    assert.equal(100, m.learned_vs_target.n)
    for _, cond in ipairs({ "base", "instilled", "itrained", "native_instilled", "native_itrained" }) do
      local R = m.reports[cond]
      assert.is_table(R, cond)
      for _, k in ipairs({ "slope", "lo", "hi", "r", "n", "contexts" }) do assert.is_number(R[k], cond .. "." .. k) end
      assert.is_true(R.lo <= R.slope and R.slope <= R.hi, cond)
    end
    for _, k in ipairs({ "training_effect", "native_training_effect" }) do
      assert.is_number(m[k].diff)
      assert.is_true(m[k].lo <= m[k].diff and m[k].diff <= m[k].hi)
    end
    assert.is_table(m.invalid_reports.instilled)
    assert.matches("simulated subject", s.backend)
    assert.is_number(s.timings["fine-tune instill"])
    assert.is_number(s.timings["choices sim-large instilled"])
  end)

  it("writes report.html with a plot per condition and summary.md", function()
    local html = assert(util.read_file(dir .. "/report.html"))
    assert.matches('data%-points="100" id="scatter%-sim%-large%-instilled"', html)
    assert.matches('id="target%-sim%-large"', html)
    assert.matches("not results of any language model", html)
    assert.is_true(util.file_exists(dir .. "/summary.md"))
  end)

  it("records the run in a manifest without secrets", function()
    local m = read_json(dir .. "/manifest.json")
    assert.equal(20, m.options.contexts)
    assert.matches("^ft:sim%-large:", m.fine_tunes["instill <- sim-large"].model)
    assert.is_table(m.fine_tunes["instill <- sim-large"].hyperparameters)
    assert.matches("^Lua 5%.4", m.versions.lua)
    assert.equal(5, m.seeds.choices)
    assert.equal(4, m.seeds.finetune)
    assert.matches("^%x+$", m.templates.report)
    assert.matches("^%x+$", m.templates.decision)
  end)

  it("re-running the finished command sends nothing and changes no result", function()
    local before = assert(util.read_file(dir .. "/sim-large_instilled_selections.csv"))
    local rows = sqlite_count(dir .. "/responses.sqlite")
    local again, c2 = run(SMALL .. " --out=" .. dir)
    assert.equal(0, c2, again)
    assert.equal(before, util.read_file(dir .. "/sim-large_instilled_selections.csv"))
    assert.equal(rows, sqlite_count(dir .. "/responses.sqlite"))
    local m = read_json(dir .. "/manifest.json")
    assert.equal(0, m.store.misses)
  end)

  it("refuses a second run in the same directory at the same time", function()
    local rd = require("introspect.run.rundir")
    local held = assert(rd.open(dir))
    local o, c = run(SMALL .. " --out=" .. dir)
    held:close()
    assert.equal(1, c)
    assert.matches("is in use by process %d+", o)
  end)
end)

describe("paper.lua --logprobs", function()
  it("records P(A) per choice and fits soft-label weights beside the hard ones", function()
    local dir = tmpdir()
    local out, code = run(SMALL .. " --logprobs --out=" .. dir)
    assert.equal(0, code, out)
    local probs = assert(csv.read(dir .. "/sim-large_instilled_selections_probs.csv"))
    assert.equal(20 * 20, #probs.rows)
    for i = 1, #probs.rows do
      local p = csv.number(probs, i, "p_a")
      assert.is_true(p >= 0 and p <= 1)
    end
    assert.is_true(util.file_exists(dir .. "/sim-large_soft_regression_results.csv"))
    local s = read_json(dir .. "/summary.json")
    local soft = s.models["sim-large"].soft_labels
    assert.equal(100, soft.soft_vs_hard.n)
    assert.is_true(soft.soft_vs_hard.r > 0.8, "soft and hard weights agree: " .. soft.soft_vs_hard.r)
  end)
end)

describe("paper.lua with bad input", function()
  it("names the file and item, exits 1 and leaves no run directory behind", function()
    local bad = os.tmpname() .. ".lua"
    local f = assert(io.open(bad, "w"))
    f:write('return {{short_name = "x", question = "Which x?", attributes = {')
    f:write('{name = "a", units = "u", min = 3, max = 3}}}}')
    f:close()
    local dir = tmpdir()
    local out, code = run(SMALL .. " --scenarios=" .. bad .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert.matches(bad:gsub("%p", "%%%0") .. ": scenario #1 'x'", out)
    assert.is_nil(io.open(dir .. "/manifest.json"))
    os.remove(bad)
    local _, code2 = run(SMALL .. " --scenarios=experiments/scenarios/library.lua --contexts=1000 --out=" .. dir)
    assert.equal(1, code2)
    assert.is_nil(io.open(dir .. "/manifest.json"))
  end)
end)

describe("paper.lua --max-cost", function()
  -- Prices for the simulated models, set before the script runs (LUA_INIT), make the budget bite.
  local PRICES = [[LUA_INIT='local p = require("introspect.client.cost").prices; ]] ..
    [[p["sim-large"] = {input = 1000, output = 1000, training = 0.001, ft_input = 1000, ft_output = 1000}']]

  local function priced_run(args)
    local p = io.popen(string.format("%s '%s' experiments/paper.lua %s 2>&1; echo \"exit=$?\"", PRICES, BIN, args))
    local out = p:read("a")
    p:close()
    return out, tonumber(out:match("exit=(%d+)%s*$"))
  end

  it("stops before a phase would exceed the budget, having sent nothing for it", function()
    local dir = tmpdir()
    local out, code = priced_run(SMALL .. " --max-cost=2 --out=" .. dir)
    assert.equal(1, code, out)
    assert.matches("would exceed max_cost %$2%.0000", out)
    assert.matches("re%-run with a higher %-%-max%-cost", out)
    assert.equal(0, sqlite_count(dir .. "/responses.sqlite", "path LIKE '%chat%'"))
  end)

  it("counts what earlier sessions of the run spent", function()
    local full = tmpdir()
    local out, code = priced_run(SMALL .. " --max-cost=100000 --out=" .. full)
    assert.equal(0, code, out)
    local total = read_json(full .. "/state.json").cost_spent
    assert.is_true(total > 0)
    -- A budget of 60% stops the run part-way; resuming with the same budget must stop again,
    -- because what the first session spent still counts.
    local budget = string.format("%.4f", total * 0.6)
    local dir = tmpdir()
    local out1, code1 = priced_run(SMALL .. " --max-cost=" .. budget .. " --out=" .. dir)
    assert.equal(1, code1, out1)
    local spent = read_json(dir .. "/state.json").cost_spent
    assert.is_true(spent > 0 and spent <= total * 0.6 + 1e-9)
    local out2, code2 = priced_run(SMALL .. " --max-cost=" .. budget .. " --out=" .. dir)
    assert.equal(1, code2, out2)
    assert.matches("would exceed max_cost", out2)
    assert.is_true(read_json(dir .. "/state.json").cost_spent <= total * 0.6 + 1e-9)
  end)
end)

describe("paper.lua --dry-run on OpenAI", function()
  it("needs no key, prices every phase including the fine-tuned models' and sends nothing", function()
    local out, code = run("--backend=openai --models=gpt-4o-mini-2024-07-18 --dry-run --out=" .. tmpdir(),
      "env -u OPENAI_API_KEY")
    assert.equal(0, code, out)
    assert.matches("fine%-tune instill%s+1%s+%d+%s+%$%d+%.%d%d", out)
    local itrained = out:match("reports gpt%-4o%-mini%-2024%-07%-18 itrained_first_50%s+500%s+%d+%s+%$([%d%.]+)")
    assert.is_truthy(itrained, out)
    assert.is_true(tonumber(itrained) > 0, "fine-tuned model priced")
    local total = tonumber(out:match("total %(dry run: nothing was sent%)%s+%$([%d%.]+)"))
    assert.is_true(total > 1, out)
  end)
end)

describe("paper.lua --dry-run", function()
  it("prints requests, tokens and cost per phase and sends nothing", function()
    local dir = tmpdir()
    local out, code = run(SMALL .. " --dry-run --out=" .. dir)
    assert.equal(0, code, out)
    assert.matches("fine%-tune instill%s+1%s+%d+%s+%$%d+%.%d%d", out)
    assert.matches("reports sim%-large base%s+60%s+%d+", out)
    assert.matches("choices sim%-large native%s+800%s+%d+", out)
    assert.matches("total %(dry run: nothing was sent%)", out)
    assert.is_false(util.file_exists(dir .. "/responses.sqlite"))
    assert.is_false(util.file_exists(dir .. "/summary.json"))
  end)
end)

describe("paper.lua resumed after SIGKILL", function()
  local reference = tmpdir()
  local ref_out, ref_code = run(SMALL .. " --out=" .. reference)

  -- Starts the run in the background, waits until its log matches `pattern`, kills it with
  -- SIGKILL, then runs the same command to the end. Returns the directory and the number of
  -- stored responses at the time of the kill.
  local function kill_and_resume(pattern, extra)
    local dir = tmpdir()
    local log = dir .. ".log"
    local args = SMALL .. (extra or "") .. " --out=" .. dir
    local p = io.popen(string.format("'%s' experiments/paper.lua %s >'%s' 2>&1 & echo $!", BIN, args, log))
    local pid = tonumber(p:read("l"))
    p:close()
    local deadline = sys.now() + 60
    local seen = false
    while sys.now() < deadline do
      local text = util.read_file(log) or ""
      if text:find(pattern) then seen = true break end
      sys.sleep(0.005)
    end
    sys.kill(pid, "KILL")
    sys.sleep(0.1)
    assert.is_true(seen, "the run never reached " .. pattern .. ": " .. tostring(util.read_file(log)))
    local stored = 0
    if util.file_exists(dir .. "/responses.sqlite") then stored = support.stored_count(dir .. "/responses.sqlite") end
    local out, code = run(args)
    assert.equal(0, code, out)
    return dir, stored
  end

  local function same_results(dir)
    for _, name in ipairs(OUTPUTS) do
      assert.equal(util.read_file(reference .. "/" .. name), util.read_file(dir .. "/" .. name), name)
    end
    local a = read_json(reference .. "/summary.json")
    local b = read_json(dir .. "/summary.json")
    a.timings, b.timings, a.cost, b.cost = nil, nil, nil, nil
    assert.same(a, b)
  end

  local function nothing_sent_twice(dir, stored_at_kill)
    local m = read_json(dir .. "/manifest.json")
    local total = sqlite_count(reference .. "/responses.sqlite", "ok = 1")
    assert.equal(total, sqlite_count(dir .. "/responses.sqlite", "ok = 1"))
    -- the resumed run sent only what was not stored when it was killed
    assert.equal(total - stored_at_kill, m.store.misses)
  end

  it("has a reference run", function() assert.equal(0, ref_code, ref_out) end)

  it("during sampling", function()
    local dir, stored = kill_and_resume("choices sim%-large instilled%s+0/400")
    same_results(dir)
    nothing_sent_twice(dir, stored)
    assert.is_true(stored > 0)
  end)

  it("during a fine-tuning wait, without creating the job twice", function()
    local dir, stored = kill_and_resume("fine%-tune itrained_first_50%s*\n", " --sim-job-duration=0.5")
    same_results(dir)
    nothing_sent_twice(dir, stored)
    -- the simulated subject's journal lists every job it created: one per fine-tune
    local ids = {}
    for line in assert(io.lines(dir .. "/sim-state/journal.jsonl")) do
      local rec = cjson.decode(line)
      if rec.kind == "job" and type(rec.metadata) == "table" then
        local key = rec.metadata.introspect_key
        ids[key] = ids[key] or {}
        ids[key][rec.id] = true
      end
    end
    local keys = 0
    for key, set in pairs(ids) do
      keys = keys + 1
      local n = 0
      for _ in pairs(set) do n = n + 1 end
      assert.equal(1, n, key)
    end
    assert.equal(4, keys)
  end)

  it("during analysis", function()
    local dir, stored = kill_and_resume("choices sim%-large native%s+800/800")
    same_results(dir)
    nothing_sent_twice(dir, stored)
  end)
end)
