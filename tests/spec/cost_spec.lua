-- introspect.client.cost: prices, fine-tuned names, batch discount, meter totals and the budget.
local cost = require("introspect.client.cost")
local apierror = require("introspect.client.apierror")

describe("introspect.client.cost", function()
  it("prices usage per million tokens, with cached input and the batch discount", function()
    local u = { prompt_tokens = 1000000, completion_tokens = 500000 }
    assert.are.near(0.15 + 0.30, cost.of_usage("gpt-4o-mini-2024-07-18", u), 1e-12)
    assert.are.near(0.225, cost.of_usage("gpt-4o-mini", u, { batch = true }), 1e-12)
    local cached = { prompt_tokens = 1000000, completion_tokens = 0,
      prompt_tokens_details = { cached_tokens = 400000 } }
    assert.are.near(0.6 * 2.50 + 0.4 * 1.25, cost.of_usage("gpt-4o-2024-08-06", cached), 1e-12)
  end)

  it("prices fine-tuned models at their base's fine-tuned rates and training per token", function()
    local u = { prompt_tokens = 1000000, completion_tokens = 1000000 }
    assert.are.near(0.30 + 1.20, cost.of_usage("ft:gpt-4o-mini-2024-07-18:org:instill:abc123", u), 1e-12)
    assert.are.near(3.00 * 2, cost.of_training("gpt-4o-mini-2024-07-18", 2000000), 1e-12)
  end)

  it("says which model has no price, and the table is editable", function()
    local d, err = cost.of_usage("llama-3-8b", { prompt_tokens = 10 })
    assert.is_nil(d)
    assert.truthy(err:find("llama-3-8b", 1, true))
    cost.prices["llama-3-8b"] = { input = 1, output = 2 }
    assert.are.near(3e-6, cost.of_usage("llama-3-8b", { prompt_tokens = 1, completion_tokens = 1 }), 1e-15)
    cost.prices["llama-3-8b"] = nil
  end)

  it("keeps a running total and estimates an upper bound before a phase", function()
    local m = cost.meter()
    m:add_usage("gpt-4o-mini", { prompt_tokens = 100, completion_tokens = 10 })
    m:add_usage("unknown-model", { prompt_tokens = 100, completion_tokens = 10 })
    assert.are.near((100 * 0.15 + 10 * 0.60) / 1e6, m.total, 1e-15)
    assert.are.equal(2, m.requests)
    assert.are.equal(1, m.unpriced["unknown-model"])
    local body = { model = "gpt-4o-mini", messages = { { role = "user", content = string.rep("a", 392) } },
      max_completion_tokens = 10, n = 2 }
    -- (392 + 8) / 4 = 100 input tokens, 2 x 10 output tokens
    assert.are.near((100 * 0.15 + 20 * 0.60) / 1e6, m:estimate_chat({ body }), 1e-15)
  end)

  it("refuses work that could exceed max_cost, with a structured error", function()
    local m = cost.meter({ max_cost = 1.0 })
    assert.is_true(m:reserve(0.6))
    local ok, err = m:reserve(0.5)
    assert.is_nil(ok)
    assert.is_true(apierror.is(err))
    assert.are.equal("budget_exceeded", err.type)
    assert.truthy(tostring(err):find("max_cost", 1, true))
    m:release(0.6)
    m:add_usage("gpt-4o-2024-08-06", { prompt_tokens = 0, completion_tokens = 90000 })  -- $0.90
    assert.is_true(m:check(0.09))
    assert.is_nil(m:check(0.11))
  end)

  it("rejects unknown options", function()
    assert.has_error(function() cost.meter({ max_costs = 1 }) end)
    assert.has_error(function() cost.of_usage("gpt-4o", {}, { batched = true }) end)
  end)
end)

-- Issue 15 item 1: an unpriced model is never $0.00 under a budget.
describe("unpriced models", function()
  local function tmpfile(text)
    local p = os.tmpname()
    local f = assert(io.open(p, "w"))
    f:write(text)
    f:close()
    return p
  end

  it("names the model, the closest priced one and how to give prices", function()
    local d, err = cost.of_usage("gpt-4o-mni", { prompt_tokens = 10 })
    assert.is_nil(d)
    assert.matches("no price for model 'gpt-4o-mni' (did you mean gpt-4o-mini?)", err, 1, true)
    assert.matches("--prices=FILE", err, 1, true)
  end)

  it("stops a run under max_cost before anything is sent, and not without one", function()
    local m = cost.meter({ max_cost = 5 })
    local ok, err = m:require_prices({ "gpt-4o-mini", "gpt-4o-2024-11-20" }, { training = true })
    assert.is_nil(ok)
    assert.matches("model 'gpt-4o-2024-11-20'", err, 1, true)
    assert.is_true(m:require_prices({ "gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:o:x:1" }, { training = true }))
    assert.is_true(cost.meter():require_prices({ "gpt-4o-2024-11-20" }))
    assert.same({ "gpt-4o-2024-11-20" }, m:unpriced_models({ "sim-large", "gpt-4o-2024-11-20" }))
  end)

  it("reads a prices file (fine-tunes priced by their base) and names bad fields", function()
    local path = tmpfile('{"gpt-4o-2024-11-20": {"input": 2.5, "cached_input": 1.25, "output": 10, "training": 25}}')
    local prices = assert(cost.load_prices(path))
    assert.is_nil(cost.prices["gpt-4o-2024-11-20"])
    local m = cost.meter({ max_cost = 5, prices = prices })
    assert.is_true(m:require_prices({ "gpt-4o-2024-11-20" }, { training = true }))
    local u = { prompt_tokens = 1000000, completion_tokens = 1000000 }
    assert.are.near(12.5, cost.of_usage("ft:gpt-4o-2024-11-20:org:x:1", u, { prices = prices }), 1e-9)
    for text, want in pairs({
      ['{"m": {"input": 1, "outptu": 2}}'] = "model 'm': unknown field 'outptu'",
      ['{"m": {"input": -1, "output": 2}}'] = "field 'input' must be a non-negative number",
      ['{"m": {"input": 1}}'] = "needs at least 'input' and 'output'",
      ['[1, 2'] = "not a JSON object",
    }) do
      local p = tmpfile(text)
      local t, err = cost.load_prices(p)
      assert.is_nil(t)
      assert.matches(p, err, 1, true)
      assert.matches(want, err, 1, true)
      os.remove(p)
    end
    os.remove(path)
  end)

  it("shows unpriced plan rows as unpriced and says when the estimate exceeds max_cost", function()
    local text = cost.plan_table({
      { phase = "fine-tune instill", requests = 1, tokens = 100, cost = 0, unpriced = 1 },
      { phase = "reports base", requests = 10, tokens = 1000, cost = 6.5, unpriced = 0 },
      { phase = "choices", requests = 10, tokens = 1000, cost = 0.001, unpriced = 3 },
    }, { max_cost = 5, unpriced = { "gpt-4o-mni" } })
    assert.matches("fine%-tune instill%s+1%s+100%s+unpriced\n", text)
    assert.matches("choices%s+10%s+1000%s+%$0%.0010 %+ unpriced\n", text)
    assert.matches("total %(dry run: nothing was sent%)%s+%$6%.50 %+ unpriced\n", text)
    assert.matches("under --max-cost the run would refuse to start", text, 1, true)
    assert.matches("the estimate $6.50 exceeds --max-cost $5.00", text, 1, true)
    assert.matches("no price for model 'gpt-4o-mni'", text, 1, true)
    assert.is_nil(text:find("%$0%.00[\n ]"))
  end)
end)

-- Issue 15 item 4: the summary's cost covers every session of a run.
describe("cost.whole_run", function()
  it("takes requests and tokens from the store's totals and adds every fine-tune", function()
    local m = cost.meter({ max_cost = 100 })
    m:add_usage("gpt-4o-mini", { prompt_tokens = 10, completion_tokens = 1 })   -- this session only
    local totals = { requests = 40000, failed = 2, input_tokens = 4000000, output_tokens = 40000, cost = 1.5,
      by_model = { ["gpt-4o-mini"] = { requests = 40000, cost = 1.5 } } }
    local s = cost.whole_run(m, totals, { { model = "gpt-4o-mini-2024-07-18", tokens = 1000000 } })
    assert.equal(40000, s.requests)
    assert.equal(2, s.failed)
    assert.equal(4000000, s.input_tokens)
    assert.are.near(1.5 + 3.0, s.total, 1e-9)
    assert.equal(1000000, s.training_tokens)
    assert.equal(1, s.session.requests)
    assert.equal(100, s.max_cost)
  end)
end)

describe("cost.trainings", function()
  it("lists every finished fine-tune of a run's state with its parent", function()
    assert.same({ { model = "ft:gpt-4o-mini:o:instill:1", tokens = 10 }, { model = "gpt-4o-mini", tokens = 500 } },
      cost.trainings({
        ["finetune:gpt-4o-mini:instill"] = { trained_tokens = 500, model = "ft:gpt-4o-mini:o:instill:1" },
        ["finetune:ft:gpt-4o-mini:o:instill:1:first_50"] = { trained_tokens = 10 },
        ["finetune:gpt-4o-mini:running"] = { job = "ftjob-1" }, other = 1 }))
  end)
end)
