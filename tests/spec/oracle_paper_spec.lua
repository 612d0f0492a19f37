-- Correctness oracle for experiments/paper.lua: the run is checked against the simulated
-- subject's ground truth (its actual weights, its expected reports, its answer to every exact
-- prompt), rebuilt from the run's own sim-state/ and responses.sqlite by tests/lib/oracle.lua,
-- and against reference logistic fits recomputed from the CSVs with plain IRLS. Bounds come
-- from the design's size (Fisher standard errors) and the subject's documented parameters
-- (docs/simulated-subject.md), not from another run. Inverting any result (A/B swapped when
-- recorded, a sign flipped in the fit, reports misparsed) fails these tests: `make mutate`.
local cjson = require "cjson"
local support = require "paper_support"
local O = require "lib.oracle"

local CONTEXTS, TRIALS, REPORTS = 20, 60, 5
local MODEL = "sim-large"

describe("paper.lua against the simulated subject's ground truth", function()
  local dir = support.tmpdir()
  local out, code = support.run(string.format("--contexts=%d --models=%s --trials=%d --reports=%d --out=%s",
    CONTEXTS, MODEL, TRIALS, REPORTS, dir))
  assert(code == 0, out)
  local ranges = O.ranges(dir .. "/scenarios.csv")
  local truth = O.subject(dir)
  local summary = cjson.decode(O.read_file(dir .. "/summary.json")).models[MODEL]
  local learned = O.weights(dir .. "/" .. MODEL .. "_regression_results.csv")
  local targets = O.weights(dir .. "/instilled_weights.csv")
  local chosen = O.selections(dir .. "/" .. MODEL .. "_instilled_selections.csv", ranges)
  local native_chosen = O.selections(dir .. "/" .. MODEL .. "_instilled_latent_selections.csv", ranges)

  -- prompts[key] = the decision prompt the run sent for that (context, A, B) trial
  local decisions = {}
  for _, p in ipairs(truth.prompts) do
    if p.kind == "decision" then decisions[O.trial_key(p.parsed.ctx.question, p.parsed.a, p.parsed.b)] = p end
  end

  it("asks every choice and report at temperature 0, as the study did", function()
    local n = 0
    for _, p in ipairs(truth.prompts) do
      assert.equal(0, p.body.temperature, p.kind .. " prompt to " .. p.model)
      n = n + 1
    end
    assert.is_true(n >= CONTEXTS * TRIALS * 3)
  end)

  it("records every choice as the subject made it for that exact prompt", function()
    for _, groups in ipairs({ chosen, native_chosen }) do
      local checked = 0
      for _, s in ipairs(groups.order) do
        local g = groups[s]
        for i, row in ipairs(g.rows) do
          local p = decisions[O.trial_key(ranges[s].question, row.a, row.b)]
          assert(p, string.format("%s row %d: no prompt of the run showed these options", s, i))
          local answer = O.ask(truth, p.body)
          assert.equal(answer, row.selection, string.format("%s row %d: the subject answered %s", s, i, answer))
          checked = checked + 1
        end
      end
      assert.is_true(checked >= 0.9 * CONTEXTS * TRIALS, "too few choices recorded: " .. checked)
    end
  end)

  it("records every valid report with the numbers the subject wrote, as it wrote them", function()
    local reports = {}
    for _, p in ipairs(truth.prompts) do
      if p.kind == "report" then
        reports[p.model .. "|" .. O.trial_key(p.parsed.ctx.question, p.parsed.a, p.parsed.b)] = p
      end
    end
    local t = O.read_csv(dir .. "/" .. MODEL .. "_instilled_weight_reports.csv")
    assert.is_true(#t.rows >= 0.5 * CONTEXTS * REPORTS)
    for i, row in ipairs(t.rows) do
      local r = ranges[row.scenario]
      local a, b = {}, {}
      for j = 1, #r.names do a[j], b[j] = tonumber(row["A_attribute_" .. j]), tonumber(row["B_attribute_" .. j]) end
      local p = assert(reports[row.explaining_model .. "|" .. O.trial_key(r.question, a, b)],
        "report row " .. i .. ": no prompt of the run matches it")
      local reply = O.ask(truth, p.body)
      for j, name in ipairs(r.names) do
        local written = reply:match('"' .. name .. '"%s*:%s*(%-?[%d.eE+-]+)')
        assert.equal(written, row["report_attr" .. j], string.format("report row %d, %s", i, name))
      end
    end
  end)

  -- Learned weights of the instilled contexts against the fine-tuned model's actual weights.
  local c = O.compare(chosen, learned, function(g, s) return O.actual(truth, g.model, ranges[s].question) end)
  local L, A, R = c.learned, c.actual, c.reference
  local T = {}
  for n, s in ipairs(c.scenarios) do T[n] = targets[s][(n - 1) % 5 + 1] end
  local r_design = c.r_design

  it("learns the fine-tuned model's actual weights within the design's standard errors", function()
    assert.equal(CONTEXTS * 5, #L)
    -- chi-square per weight: 1 for an unbiased fit; the posterior's shrinkage makes it smaller,
    -- the subject's learned attribute ranges (R_i, within ~10% of max - min) a little larger
    assert.is_true(c.z2 < 2.5, "mean squared standardized error " .. c.z2)
    local r = O.pearson(L, A)
    assert.is_true(r > r_design - 0.1, string.format("r(learned, actual) %.3f, design implies %.3f", r, r_design))
  end)

  it("agrees with an independent IRLS fit of the selections CSV", function()
    local r = O.pearson(L, R)
    assert.is_true(r > 0.9, "r(learned, reference fit) " .. r)
    assert.is_true(O.pearson(R, A) > r_design - 0.1, "the reference fit misses the actual weights")
  end)

  it("reports learned vs target as recomputed, consistent with the subject's instilled weights", function()
    assert.near(O.pearson(L, T), summary.learned_vs_target.r, 1e-6)
    assert.equal(CONTEXTS * 5, summary.learned_vs_target.n)
    local r_truth = O.pearson(A, T)   -- how far the fine-tune moved the subject toward the targets
    assert.is_true(summary.learned_vs_target.r > r_truth * r_design - 0.1,
      string.format("learned vs target %.3f; truth %.3f x design %.3f", summary.learned_vs_target.r, r_truth, r_design))
  end)

  -- Report accuracy: the expected slope follows from the reporter's expected reports and the
  -- chooser's actual weights (noise-free r), attenuated by the reporter's report noise (its sd
  -- over the reports per context) and the learned weights' standard errors.
  local conditions = {
    base = { file = "_weight_reports.csv", groups = chosen },
    instilled = { file = "_instilled_weight_reports.csv", groups = chosen },
    native_instilled = { file = "_instilled_latent_weight_reports.csv", groups = native_chosen },
    native_itrained = { file = "_itrained_all_20_50ex_latent_weight_reports.csv", groups = native_chosen },
  }
  for cond, spec in pairs(conditions) do
    it("measures " .. cond .. " report accuracy within the interval the subject's parameters imply", function()
      local t = O.read_csv(dir .. "/" .. MODEL .. spec.file)
      local M, W, seen, count, noise = {}, {}, {}, {}, 0
      for _, row in ipairs(t.rows) do count[row.scenario] = (count[row.scenario] or 0) + 1 end
      for _, row in ipairs(t.rows) do
        if not seen[row.scenario] then
          seen[row.scenario] = true
          local q = ranges[row.scenario].question
          local facts = O.facts(truth, row.explaining_model, q)
          local m = facts.report_mean
          local w = O.actual(truth, assert(spec.groups[row.scenario], row.scenario).model, q)
          local sd = facts.report_noise
          for j = 1, #m do M[#M + 1], W[#W + 1] = m[j], w[j] end
          noise = noise + sd ^ 2 / count[row.scenario]
        end
      end
      noise = noise / (#M / 5)
      local r_free = O.pearson(M, W)
      local attenuation = math.sqrt(O.variance(M) / (O.variance(M) + noise)) * r_design
      local se = (1 - r_free ^ 2) / math.sqrt(#M - 3)
      local lo = math.min(r_free * attenuation, r_free) - 3 * se - 0.05
      local hi = math.max(r_free * attenuation, r_free) + 3 * se
      local got = summary.reports[cond].r
      assert.is_true(got >= lo and got <= hi,
        string.format("%s: r %.3f outside [%.3f, %.3f] (noise-free %.3f)", cond, got, lo, hi, r_free))
    end)
  end
end)
