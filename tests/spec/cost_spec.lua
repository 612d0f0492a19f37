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
