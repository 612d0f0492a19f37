-- Learning tied to wording (docs/simulated-subject.md, "Wording"): what report training teaches
-- transfers to another report instruction in proportion to the similarity of the two texts
-- (the Jaccard index of their word sets). Driven through chat requests only.
local R = require("sim_recovery")
local sim = require("introspect.sim")

local W1 = R.REPORT
local W2 = "Give the weight of each dimension as JSON."
local W3 = (R.REPORT:gsub("Respond only with JSON", "Answer only with JSON"))
local ctxs = R.contexts(80)
local trained_ctx, held_out = {}, {}
for i = 1, 40 do trained_ctx[i], held_out[i] = ctxs[i], ctxs[40 + i] end

describe("sim wording", function()
  local api = sim.api({ profiles = { "sim-large" } })
  local instilled = R.train(api, "sim-large", R.choice_examples(ctxs, R.weights(80, 8), 40, 1), { seed = 7 })
  -- introspection training in wording W1: the instilled model's actual weights as targets
  local targets = {}
  for i, c in ipairs(trained_ctx) do
    local a, b = R.trial(c, R.stream(i))
    targets[i] = api:truth(instilled, R.messages("decision", c, a, b)).weights
  end
  local trained = R.train(api, instilled, R.report_examples(trained_ctx, targets, 2, 3, { instruction = W1 }),
    { seed = 8 })

  -- accuracy(model, wording) -> r of mean reports with the actual weights on held-out contexts
  local function accuracy(model, wording)
    local reports, actual = {}, {}
    for i, c in ipairs(held_out) do
      local rep = R.mean_report(api, model, c, 10, 200 + i, { instruction = wording })
      if rep then
        local a, b = R.trial(c, R.stream(i))
        reports[#reports + 1] = rep
        actual[#actual + 1] = api:truth(model, R.messages("decision", c, a, b)).weights
      end
    end
    return R.pearson(R.flat(reports), R.flat(actual))
  end

  it("helps the trained wording W1 more than a dissimilar W2 (held-out contexts)", function()
    local gain1 = accuracy(trained, W1) - accuracy(instilled, W1)
    local gain2 = accuracy(trained, W2) - accuracy(instilled, W2)
    local gain3 = accuracy(trained, W3) - accuracy(instilled, W3)
    print(string.format("accuracy gain: W1 %.3f, similar W3 %.3f (similarity %.2f), dissimilar W2 %.3f "
      .. "(similarity %.2f)",
      gain1, gain3, sim.subject.similarity(W1, W3), gain2, sim.subject.similarity(W1, W2)))
    assert.is_true(gain1 > 0.1)
    assert.is_true(gain1 > gain2 + 0.08)
    assert.is_true(gain3 > gain2)
  end)

  it("transfers the skill in proportion to the similarity of the instruction texts", function()
    local c = held_out[1]
    local a, b = R.trial(c, R.stream(1))
    local function skill(model, wording)
      return api:truth(model, R.messages("report", c, a, b, { instruction = wording })).skill
    end
    local g1 = skill(trained, W1) - skill(instilled, W1)
    assert.is_true(g1 > 0)
    for _, wording in ipairs({ W2, W3 }) do
      local s = sim.subject.similarity(W1, wording)
      assert.is_true(s > 0 and s < 1)
      assert.near(s * g1, skill(trained, wording) - skill(instilled, wording), 1e-9)
    end
    assert.near(1, sim.subject.similarity(W1, W1), 0)
    assert.near(0, sim.subject.similarity("alpha beta", "gamma delta"), 0)
    assert.near(1 / 3, sim.subject.similarity("Alpha beta", "alpha gamma"), 1e-12)
  end)
end)
