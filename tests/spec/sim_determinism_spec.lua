-- A fine-tune of the simulated subject is a pure function of its parent, the training file's
-- content, the resolved hyperparameters and the job seed: never of its id, of the job's place in
-- the server's history, or of the api's id seed (docs/simulated-subject.md, "Determinism").
local R = require("sim_recovery")
local sim = require("introspect.sim")

local ctxs = R.contexts(12)
local weights = R.weights(12, 4)
local instill = R.jsonl(R.choice_examples(ctxs, weights, 30, 1))
local reports = R.jsonl(R.report_examples({ ctxs[1], ctxs[2], ctxs[3] }, { weights[1], weights[2], weights[3] }, 4, 2))
local other = R.jsonl(R.choice_examples({ ctxs[5], ctxs[6] }, { weights[6], weights[5] }, 20, 9))

-- answers(api, model) -> every reply to a fixed set of decision and report prompts, in order
local function answers(api, model)
  local out, u = {}, R.stream(77)
  for _, c in ipairs(ctxs) do
    for _ = 1, 4 do
      local a, b = R.trial(c, u)
      out[#out + 1] = R.content(api, { model = model, temperature = 0, messages = R.messages("decision", c, a, b) })
      out[#out + 1] = R.content(api, { model = model, temperature = 0, messages = R.messages("report", c, a, b) })
      out[#out + 1] = R.content(api, { model = model, temperature = 1, seed = 3,
        messages = R.messages("report", c, a, b) })
    end
  end
  return out
end

-- fresh(history, api_seed) -> api, instilled id, introspection-trained id, after `history`
-- (a list of files trained first) on an api with id seed api_seed
local function fresh(history, api_seed, opts)
  opts = opts or {}
  local api = sim.api({ profiles = { "sim-large" }, seed = api_seed, state_dir = opts.state_dir })
  for _, text in ipairs(history) do R.train(api, "sim-large", text, { seed = 11 }) end
  local m1 = R.train(api, "sim-large", instill, { seed = opts.seed or 5 })
  local m2 = R.train(api, m1, reports, { seed = 6 })
  return api, m1, m2
end

describe("sim fine-tunes depend on content alone", function()
  local api1, a1, b1 = fresh({}, 0)
  local api2, a2, b2 = fresh({ other, reports }, 99)

  it("gives fine-tunes of the same file, hyperparameters and seed the same behaviour after any history", function()
    assert.are_not.equal(a1, a2)   -- ids differ (job order and the api seed) ...
    assert.same(answers(api1, a1), answers(api2, a2))   -- ... behaviour does not
    assert.same(answers(api1, b1), answers(api2, b2))
    for _, c in ipairs(ctxs) do
      local msgs = R.messages("decision", c, R.trial(c, R.stream(1)))
      assert.same(api1:truth(b1, msgs).weights, api2:truth(b2, msgs).weights)
    end
  end)

  it("lets the job seed and the hyperparameters matter", function()
    local api3, a3 = fresh({}, 0, { seed = 12345 })
    assert.are_not.same(answers(api1, a1), answers(api3, a3))
    local api4 = sim.api({ profiles = { "sim-large" } })
    local a4 = R.train(api4, "sim-large", instill, { seed = 5, hyperparameters = { n_epochs = 2 } })
    assert.are_not.same(answers(api1, a1), answers(api4, a4))
  end)

  it("keeps the behaviour across a restart from the state directory", function()
    local dir = os.tmpname()
    os.remove(dir)
    local api5, a5, b5 = fresh({ other }, 3, { state_dir = dir })
    local before = answers(api5, b5)
    assert.same(answers(api1, b1), before)
    local reloaded = sim.api({ profiles = { "sim-large" }, seed = 3, state_dir = dir })
    assert.same(before, answers(reloaded, b5))
    assert.same(answers(api1, a1), answers(reloaded, a5))
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)
