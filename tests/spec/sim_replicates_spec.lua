-- Replicate variance (docs/simulated-subject.md, "Replicates"): fine-tunes of one file with
-- different seeds differ as independent fine-tunes do, in the weights they learn and in report
-- skill; over 8 replicates of the study's instilling step the SD of the instilled accuracy is
-- within 30% of the profile's replicate_sd. Driven through chat requests only.
local R = require("sim_recovery")
local sim = require("introspect.sim")

local N = 100
local ctxs = R.contexts(N)
local targets = R.weights(N, 3)
local instill = R.jsonl(R.choice_examples(ctxs, targets, 50, 1))

describe("sim replicates", function()
  local api = sim.api({ profiles = { "sim-large", { name = "sim-clones", replicate_sd = 0, replicate_lr_sd = 0,
    update_noise = 0 } } })

  it("gives 8 replicates an instilled-accuracy SD within 30% of the profile's replicate_sd", function()
    local accs, learned_sets, access = {}, {}, {}
    for rep = 1, 8 do
      local m = R.train(api, "sim-large", instill, { seed = rep })
      local learned, reports = {}, {}
      for i, c in ipairs(ctxs) do
        local rp = R.mean_report(api, m, c, 10, 900 + i)
        if rp then
          learned[#learned + 1] = R.measure(api, m, c, 50, 500 + i)
          reports[#reports + 1] = rp
        end
      end
      accs[rep] = R.pearson(R.flat(learned), R.flat(reports))
      learned_sets[rep] = R.flat(learned)
      local a, b = R.trial(ctxs[1], R.stream(1))
      access[rep] = api:truth(m, R.messages("report", ctxs[1], a, b)).access
    end
    local sd, mean = R.sd(accs)
    local target = sim.profiles["sim-large"].replicate_sd
    local rs = {}
    for x = 1, 8 do for y = x + 1, 8 do rs[#rs + 1] = R.pearson(learned_sets[x], learned_sets[y]) end end
    local _, mean_r = R.sd(rs)
    local access_sd = R.sd(access)
    print(string.format("8 replicates: instilled accuracy mean %.3f, SD %.3f (profile %.3f); access SD %.3f; "
      .. "between-replicate r of learned weights %.3f", mean, sd, target, access_sd, mean_r))
    assert.is_true(math.abs(sd - target) <= 0.3 * target, string.format("SD %.3f vs %.3f", sd, target))
    assert.is_true(mean_r < 0.99, "replicates learn nearly identical weights: r = " .. mean_r)
    assert.is_true(access_sd > 0.01)
  end)

  it("makes replicates clones when the profile's replicate parameters are 0", function()
    local m1 = R.train(api, "sim-clones", instill, { seed = 1 })
    local m2 = R.train(api, "sim-clones", instill, { seed = 2 })
    for i = 1, 10 do
      local a, b = R.trial(ctxs[i], R.stream(i))
      local t1 = api:truth(m1, R.messages("report", ctxs[i], a, b))
      local t2 = api:truth(m2, R.messages("report", ctxs[i], a, b))
      assert.same(t1.weights, t2.weights)
      assert.equal(t1.access, t2.access)
    end
    -- and the default profile's replicates differ in weights and access
    local d1 = R.train(api, "sim-large", instill, { seed = 1 })
    local d2 = R.train(api, "sim-large", instill, { seed = 2 })
    local a, b = R.trial(ctxs[1], R.stream(1))
    local msgs = R.messages("report", ctxs[1], a, b)
    local t1, t2 = api:truth(d1, msgs), api:truth(d2, msgs)
    assert.are_not.same(t1.weights, t2.weights)
    assert.are_not.equal(t1.access, t2.access)
  end)
end)
