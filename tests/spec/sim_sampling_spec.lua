-- The simulated subject samples like a real API (docs/simulated-subject.md, "Sampling"):
-- seedless requests at T > 0 are independent draws, a seed reproduces its answer, the n samples
-- of one request are independent, temperature divides the logit, T = 0 is deterministic.
-- Driven through the OpenAI chat shape only (plain request tables through api:handle).
local R = require("sim_recovery")
local sim = require("introspect.sim")

local api = sim.api({ profiles = { "sim-large" } })
local ctx = R.contexts(3)[2]

-- a prompt whose P(A) is moderate, and its logit from the logprobs at T = 0
local function moderate_prompt()
  local u = R.stream(17)
  for _ = 1, 200 do
    local a, b = R.trial(ctx, u)
    local msgs = R.messages("decision", ctx, a, b)
    local doc = R.chat(api, { model = "sim-large", temperature = 0, logprobs = true, top_logprobs = 2,
      messages = msgs })
    local tops = doc.choices[1].logprobs.content[1].top_logprobs
    local lp = {}
    for _, t in ipairs(tops) do lp[t.token] = t.logprob end
    local pa = math.exp(lp.A)
    if pa > 0.3 and pa < 0.7 then return msgs, pa, lp.A - lp.B end
  end
  error("no prompt with a moderate P(A)")
end

local msgs, pa, z = moderate_prompt()

-- a_rate(body, requests) -> share of "A" over all choices of `requests` identical requests
local function a_rate(body, requests)
  local a, n = 0, 0
  for _ = 1, requests do
    for _, c in ipairs(R.chat(api, body).choices) do
      n = n + 1
      if c.message.content == "A" then a = a + 1 end
    end
  end
  return a / n, n
end

local function within_binomial(rate, p, n, label)
  local se = math.sqrt(p * (1 - p) / n)
  assert.is_true(math.abs(rate - p) < 3.5 * se,
    string.format("%s: A-rate %.3f over %d, expected %.3f (3.5 SE = %.3f)", label, rate, n, p, 3.5 * se))
end

describe("sim sampling", function()
  it("draws 1,000 seedless identical requests at T=1 independently (A-rate within binomial error of P(A))", function()
    local rate, n = a_rate({ model = "sim-large", temperature = 1, messages = msgs }, 1000)
    print(string.format("seedless T=1: A-rate %.3f over %d, P(A) %.3f", rate, n, pa))
    within_binomial(rate, pa, n, "seedless T=1")
  end)

  it("gives the same answer for the same seed, and different seeds draw independently", function()
    local answers = {}
    for seed = 1, 400 do
      local body = { model = "sim-large", temperature = 1, seed = seed, messages = msgs }
      local first = R.content(api, body)
      assert.equal(first, R.content(api, body))
      answers[#answers + 1] = first
    end
    local a = 0
    for _, x in ipairs(answers) do if x == "A" then a = a + 1 end end
    within_binomial(a / #answers, pa, #answers, "400 seeds")
  end)

  it("draws the n samples of one request independently, reproducibly with a seed", function()
    local body = { model = "sim-large", temperature = 1, n = 100, seed = 7, messages = msgs }
    local rate, n = a_rate(body, 8)   -- the same seed 8 times: the same 100 samples
    local first = R.chat(api, body)
    local again = R.chat(api, body)
    for i = 1, 100 do assert.equal(first.choices[i].message.content, again.choices[i].message.content) end
    local one = a_rate(body, 1)
    assert.equal(one, rate)
    -- 10 seeds x 100 samples: within binomial error of P(A)
    local a, total = 0, 0
    for seed = 1, 10 do
      body.seed = 1000 + seed
      for _, c in ipairs(R.chat(api, body).choices) do
        total = total + 1
        if c.message.content == "A" then a = a + 1 end
      end
    end
    within_binomial(a / total, pa, total, "n=100 samples")
    assert.is_true(n == 800)
  end)

  it("divides the logit by the temperature", function()
    for _, t in ipairs({ 0.5, 2 }) do
      local p = 1 / (1 + math.exp(-z / t))
      local rate, n = a_rate({ model = "sim-large", temperature = t, n = 50, messages = msgs }, 20)
      print(string.format("T=%.1f: A-rate %.3f, sigma(z/T) %.3f", t, rate, p))
      within_binomial(rate, p, n, "T=" .. t)
    end
  end)

  it("is deterministic at temperature 0, with or without a seed", function()
    local body = { model = "sim-large", temperature = 0, n = 20, messages = msgs }
    local first = R.chat(api, body).choices[1].message.content
    for _ = 1, 5 do
      for _, c in ipairs(R.chat(api, body).choices) do assert.equal(first, c.message.content) end
    end
    assert.equal(pa >= 0.5 and "A" or "B", first)
  end)

  it("samples seedless reports independently too", function()
    local a, b = R.trial(ctx, R.stream(3))
    local body = { model = "sim-large", temperature = 1, messages = R.messages("report", ctx, a, b) }
    local seen = {}
    local distinct = 0
    for _ = 1, 20 do
      local text = R.content(api, body)
      if not seen[text] then distinct = distinct + 1; seen[text] = true end
    end
    assert.is_true(distinct >= 15, "only " .. distinct .. " distinct seedless reports of 20")
    body.seed = 5
    assert.equal(R.content(api, body), R.content(api, body))
  end)
end)
