-- The study's whole design (method.md section 3) run on sim-large through the in-process API,
-- with the project's scenario library: instill 100 contexts from choice examples, introspection
-- training on halves and on all 100, reports at T=0, choices measured by logistic regression.
-- The simulated subject must reproduce the study's qualitative pattern.
local skip = require "lib.skip"
local cjson = require("cjson")
local S = require("sim_support")
local sim = require("introspect.sim")
local replies = require("introspect.design.replies")
local subject = require("introspect.sim.subject")

describe("the study's design on sim-large", function()
  it("reproduces the qualitative pattern", function()
    local ok_stats, stats = pcall(require, "introspect.stats")
    if not ok_stats then
      skip.missing("sim_study_spec", "introspect.stats not available")
      return
    end
    local contexts = S.contexts(200)
    local instilled = {}
    for i = 1, 100 do instilled[i] = contexts[i] end
    local targets = S.weights(instilled, 1)
    local api = sim.api({ profiles = { "sim-large" } })
    local call = S.client(api)
    local function fine_tune(model, text, name)
      local body, ctype = S.multipart("fine-tune", name, text)
      local _, f = call("POST", "/v1/files", body, { ["content-type"] = ctype })
      local _, job = call("POST", "/v1/fine_tuning/jobs", { model = model, training_file = f.id, seed = 4 })
      local _, done = call("GET", "/v1/fine_tuning/jobs/" .. job.id)
      assert.equal("succeeded", done.status)
      return done.fine_tuned_model
    end
    local function slice(list, a, b)
      local out = {}
      for i = a, b do out[#out + 1] = list[i] end
      return out
    end
    local inst = fine_tune("sim-large", S.choice_file(instilled, targets, 50, 2), "instill.jsonl")
    local first50 = fine_tune(inst, S.report_file(slice(instilled, 1, 50), slice(targets, 1, 50), 6), "f.jsonl")
    local last50 = fine_tune(inst, S.report_file(slice(instilled, 51, 100), slice(targets, 51, 100), 6), "l.jsonl")
    local all100 = fine_tune(inst, S.report_file(instilled, targets, 6), "a.jsonl")

    local function ask(model, text)
      local res = api:handle({ method = "POST", path = "/v1/chat/completions", headers = {}, body = cjson.encode({
        model = model, temperature = 0, messages = { { role = "system", content = S.SYSTEM },
        { role = "user", content = text } } }) })
      return cjson.decode(res.body).choices[1].message.content
    end
    -- learned weights of the instilled model: 50 choices on 1-100, 100 on 101-200
    local learned = {}
    for i = 1, 200 do
      local c = contexts[i]
      local n = i <= 100 and 50 or 100
      local t = S.trials(c, n, 5000 + i)
      local X, y = {}, {}
      for j = 1, n do
        local tr = t:trial(j)
        local row = {}
        for k, attr in ipairs(c.scenario.attributes) do row[k] = (tr.a[k] - tr.b[k]) / (attr.max - attr.min) end
        X[j], y[j] = row, ask(inst, S.decision(c, t, j)) == "A" and 1 or 0
      end
      local fit = assert(stats.logistic(X, y, { prior_sd = 1, intercept_sd = 2.5 }))
      learned[i] = subject.scale100(fit.coef)
    end
    -- accuracy: Pearson r between mean valid reports and learned weights
    local invalid_total = 0
    local function accuracy(model, a, b)
      local rep, lw = {}, {}
      for i = a, b do
        local c = contexts[i]
        local names = {}
        for k, attr in ipairs(c.scenario.attributes) do names[k] = attr.name end
        local t = S.trials(c, 10, 9000 + i)
        local sum, n = { 0, 0, 0, 0, 0 }, 0
        for j = 1, 10 do
          local values = replies.parse(ask(model, S.report(c, t, j)), names)
          if values then
            n = n + 1
            for k = 1, 5 do sum[k] = sum[k] + values[k] end
          else
            invalid_total = invalid_total + 1
          end
        end
        if n > 0 then
          for k = 1, 5 do rep[#rep + 1], lw[#lw + 1] = sum[k] / n, learned[i][k] end
        end
      end
      return S.pearson(rep, lw)
    end
    local r = {
      control = accuracy("sim-large", 1, 100),
      instilled = accuracy(inst, 1, 100),
      itrained = (accuracy(first50, 51, 100) + accuracy(last50, 1, 50)) / 2,
      native_before = accuracy(inst, 101, 200),
      native_after = accuracy(all100, 101, 200),
    }
    local lv, tv = {}, {}
    for i = 1, 100 do for k = 1, 5 do lv[#lv + 1], tv[#tv + 1] = learned[i][k], targets[i][k] end end
    r.learned_vs_target = S.pearson(lv, tv)
    print(string.format("sim-large study pattern: learned~target %.3f, control %.3f, instilled %.3f, itrained %.3f, "
      .. "native %.3f -> %.3f, invalid reports %d of 6000", r.learned_vs_target, r.control, r.instilled, r.itrained,
      r.native_before, r.native_after, invalid_total))
    assert.is_true(r.learned_vs_target > 0.8)
    assert.is_true(math.abs(r.control) < 0.25)
    assert.is_true(r.instilled > r.control + 0.3)
    assert.is_true(r.itrained > r.instilled + 0.1)
    assert.is_true(r.native_before > 0.2)
    assert.is_true(r.native_after > r.native_before + 0.1)
  end)
end)
