-- The simulated subject: prompt parsing, determinism, choice noise and logprobs, fine-tuning
-- from JSONL, introspective access, malformed replies, parameter recovery.
local skip = require "lib.skip"
local S = require("sim_support")
local prompt = require("introspect.sim.prompt")
local subject = require("introspect.sim.subject")
local finetune = require("introspect.sim.finetune")
local hash = require("introspect.sim.hash")

local contexts = S.contexts(40)

-- ask(model, parser, text, temperature, seed, index) -> reply, logprob A, logprob B, parsed
local function ask(model, parser, text, temperature, seed, index)
  local parsed = assert(parser:parse(text), "prompt not understood")
  local ph = subject.prompt_hash(parsed)
  if parsed.kind == "decision" then
    local answer, la, lb = model:decide(parsed, ph, temperature, seed, index)
    return answer, la, lb, parsed
  end
  return model:report(parsed, ph, temperature, seed, index), nil, nil, parsed
end

local function train(parent, text, id, hp)
  local parser = prompt.new()
  local ex = assert(finetune.parse_examples(text, parser, "training file"))
  local model = finetune.train(parent, ex, finetune.resolve_hyperparameters(ex.n, hp), 4, id)
  return model, ex
end

describe("sim prompt parser", function()
  local parser = prompt.new()
  local t = S.trials(contexts[1], 2, 11)

  it("reads the study's decision and report prompts", function()
    local p = assert(parser:parse(S.decision(contexts[1], t, 1)))
    assert.equal("decision", p.kind)
    assert.equal(contexts[1].question, p.ctx.question)
    local trial = t:trial(1)
    for i, attr in ipairs(contexts[1].scenario.attributes) do
      assert.equal(attr.name, p.ctx.names[i])
      assert.equal(attr.units, p.ctx.units[i])
      assert.equal(trial.a[i], p.a[i])
      assert.equal(trial.b[i], p.b[i])
    end
    local r = assert(parser:parse(S.report(contexts[1], t, 2)))
    assert.equal("report", r.kind)
    assert.equal(p.ctx, r.ctx)   -- the cached context record
    assert.equal(t:trial(2).b[5], r.b[5])
  end)

  it("accepts instruction lines worded differently", function()
    local text = S.decision(contexts[2], t, 1)
    local body = text:match("^[^\n]*\n\n(.*)$")
    assert.equal("decision", parser:parse('Which option is better? Answer "A" or "B".\n\n' .. body).kind)
    assert.equal("report", parser:parse("Give the weight of each dimension as JSON.\n\n" .. body).kind)
    assert.is_nil(parser:parse("Tell me a story.\n\n" .. body))
  end)

  it("rejects text that is not a well-formed A/B pair", function()
    local text = S.decision(contexts[3], t, 1)
    assert.is_nil(parser:parse("hello"))
    assert.is_nil(parser:parse((text:gsub("\nB:\n", "\nC:\n"))))
    assert.is_nil(parser:parse((text:gsub(": ([%d.]+) ", ": many ", 1))))
    -- the cached fast path falls back to a full parse when the attribute set differs
    parser:parse(text)
    local renamed = text:gsub("\n" .. contexts[3].scenario.attributes[1].name .. ":", "\nother_name:")
    local p = assert(parser:parse(renamed))
    assert.equal("other_name", p.ctx.names[1])
    assert.is_not.equal(parser:parse(text).ctx, p.ctx)
  end)
end)

describe("sim subject", function()
  local parser = prompt.new()
  local large = subject.base("sim-large", "sim-large")
  local small = subject.base("sim-small", "sim-small")

  it("derives native weights from the profile seed and the context text only", function()
    local p1 = parser:parse(S.decision(contexts[1], S.trials(contexts[1], 1, 1), 1))
    local again = subject.base("sim-large", "other-id")
    assert.same(large:weights(p1.ctx), again:weights(p1.ctx))
    assert.are_not.same(large:weights(p1.ctx), small:weights(p1.ctx))
    local p2 = parser:parse(S.decision(contexts[2], S.trials(contexts[2], 1, 1), 1))
    assert.are_not.same(large:weights(p1.ctx), large:weights(p2.ctx))
    local w = large:weights(p1.ctx)
    local biggest = 0
    for _, x in ipairs(w) do biggest = math.max(biggest, math.abs(x)) end
    assert.near(100, biggest, 1e-9)
  end)

  it("answers T=0 deterministically, with logprobs that match the answer", function()
    local t = S.trials(contexts[4], 50, 3)
    local a_count = 0
    for i = 1, 50 do
      local text = S.decision(contexts[4], t, i)
      local ans, la, lb = ask(large, parser, text, 0)
      local ans2 = ask(subject.base("sim-large", "x"), prompt.new(), text, 0)
      assert.equal(ans, ans2)
      assert.near(1, math.exp(la) + math.exp(lb), 1e-12)
      assert.equal(la >= lb and "A" or "B", ans)
      if ans == "A" then a_count = a_count + 1 end
    end
    assert.is_true(a_count > 5 and a_count < 45)
  end)

  it("samples at temperature 1 with the probability its logprobs state", function()
    local t = S.trials(contexts[5], 30, 4)
    local expected, got, n = 0, 0, 0
    for i = 1, 30 do
      local text = S.decision(contexts[5], t, i)
      local _, la = ask(large, parser, text, 0)
      for k = 1, 40 do
        local ans = ask(large, parser, text, 1, 99, k)
        n = n + 1
        if ans == "A" then got = got + 1 end
        expected = expected + math.exp(la)
      end
      -- the same seed and sample index reproduce the same draw
      assert.equal(ask(large, parser, text, 1, 99, 3), ask(large, parser, text, 1, 99, 3))
    end
    local sd = math.sqrt(n * 0.25)
    assert.is_true(math.abs(got - expected) < 4 * sd, ("A drawn %d times, expected %.1f"):format(got, expected))
  end)

  it("writes malformed reports at the profile's rate", function()
    local counts = { ["sim-small"] = 0, ["sim-large"] = 0 }
    local n = 0
    for c = 1, 30 do
      local t = S.trials(contexts[c], 10, 100 + c)
      for i = 1, 10 do
        n = n + 1
        for _, m in ipairs({ small, large }) do
          local text = ask(m, parser, S.report(contexts[c], t, i), 0)
          local _, kind = m:report(parser:parse(S.report(contexts[c], t, i)),
            subject.prompt_hash(parser:parse(S.report(contexts[c], t, i))), 0)
          assert.is_string(text)
          if kind ~= "valid" then counts[m.id] = counts[m.id] + 1 end
        end
      end
    end
    assert.is_true(math.abs(counts["sim-small"] / n - 0.40) < 0.08, "sim-small rate " .. counts["sim-small"] / n)
    assert.is_true(math.abs(counts["sim-large"] / n - 0.08) < 0.05, "sim-large rate " .. counts["sim-large"] / n)
  end)

  it("learns choice examples toward the weights they imply, and only from them", function()
    local train_ctx = {}
    for i = 1, 20 do train_ctx[i] = contexts[i] end
    local targets = S.weights(train_ctx, 1)
    local model, ex = train(large, S.choice_file(train_ctx, targets, 50, 2), "ft-choice")
    assert.equal(1000, ex.n)
    local before, after, target = {}, {}, {}
    for i, c in ipairs(train_ctx) do
      local p = parser:parse(S.decision(c, S.trials(c, 1, 5), 1))
      local wb, wa = large:weights(p.ctx), model:weights(p.ctx)
      for k = 1, 5 do
        before[#before + 1], after[#after + 1], target[#target + 1] = wb[k], wa[k], targets[i][k]
      end
    end
    local r_before, r_after = S.pearson(before, target), S.pearson(after, target)
    assert.is_true(r_after > 0.9, "after training r = " .. r_after)
    assert.is_true(r_after > r_before + 0.4, ("r %.3f -> %.3f"):format(r_before, r_after))
    -- a context absent from the file keeps its native weights
    local p = parser:parse(S.decision(contexts[30], S.trials(contexts[30], 1, 5), 1))
    assert.same(large:weights(p.ctx), model:weights(p.ctx))
    -- more epochs move the weights further toward the targets (lower training loss)
    local _, ex1 = train(large, S.choice_file(train_ctx, targets, 50, 2), "x")
    local _, m1 = finetune.train(large, ex1, finetune.resolve_hyperparameters(ex1.n, { n_epochs = 1 }), 4, "e1")
    local _, m5 = finetune.train(large, ex1, finetune.resolve_hyperparameters(ex1.n, { n_epochs = 5 }), 4, "e5")
    assert.is_true(m5.train_loss < m1.train_loss)
  end)

  it("report training raises access everywhere and more on covered contexts", function()
    local covered = {}
    for i = 1, 20 do covered[i] = contexts[i] end
    -- without replicate variance (which shifts each fine-tune's access by its seed's draw)
    local fixed = {}
    for k, v in pairs(require("introspect.sim.profiles")["sim-large"]) do fixed[k] = v end
    fixed.replicate_sd, fixed.replicate_lr_sd = 0, 0
    local parent = subject.base(fixed, "sim-large")
    local model = train(parent, S.report_file(covered, S.weights(covered, 9), 6), "ft-report")
    local p_cov = parser:parse(S.report(contexts[1], S.trials(contexts[1], 1, 1), 1))
    local p_new = parser:parse(S.report(contexts[35], S.trials(contexts[35], 1, 1), 1))
    local function rs(m, p) return m:report_state(m:state(p.ctx), p.instruction) end
    local base_access = rs(parent, p_new).access
    local new_access, cov_access = rs(model, p_new).access, rs(model, p_cov).access
    assert.is_true(new_access > base_access + 0.05, ("%.3f -> %.3f"):format(base_access, new_access))
    assert.is_true(cov_access > new_access + 0.05, ("covered %.3f, uncovered %.3f"):format(cov_access, new_access))
    assert.is_true(rs(model, p_new).sigma < rs(parent, p_new).sigma)
    assert.is_true(rs(model, p_new).malformed < rs(parent, p_new).malformed)
  end)

  it("fails clearly on a broken training file", function()
    local _, err = finetune.parse_examples('{"messages": []}\n', prompt.new(), "training file")
    assert.matches("training file line 1", err)
    _, err = finetune.parse_examples('{"messages": [{"role": "user", "content": "x"}]}\nnot json\n',
      prompt.new(), "training file")
    assert.matches("line 1: no assistant message", err)
  end)

  it("recovers its internal weights from 200 choices per context (r >= 0.95)", function()
    local ok, stats = pcall(require, "introspect.stats")
    if not ok then
      skip.missing("sim_subject_spec", "introspect.stats not available")
      return
    end
    local train_ctx = {}
    for i = 1, 25 do train_ctx[i] = contexts[i] end
    local model = train(large, S.choice_file(train_ctx, S.weights(train_ctx, 3), 50, 7), "ft-recovery")
    local measured, internal = {}, {}
    for i, c in ipairs(train_ctx) do
      local t = S.trials(c, 200, 500 + i)
      local X, y = {}, {}
      local attrs = c.scenario.attributes
      for j = 1, 200 do
        local ans = ask(model, parser, S.decision(c, t, j), 0)
        local tr = t:trial(j)
        local row = {}
        for k = 1, 5 do row[k] = (tr.a[k] - tr.b[k]) / (attrs[k].max - attrs[k].min) end
        X[j], y[j] = row, ans == "A" and 1 or 0
      end
      local fit = assert(stats.logistic(X, y, { prior_sd = 1, intercept_sd = 2.5 }))
      local scaled = subject.scale100(fit.coef)
      local p = parser:parse(S.decision(c, t, 1))
      local w = model:weights(p.ctx)
      for k = 1, 5 do measured[#measured + 1], internal[#internal + 1] = scaled[k], w[k] end
    end
    local r = S.pearson(measured, internal)
    print(("parameter recovery: r = %.3f over %d weights"):format(r, #measured))
    assert.is_true(r >= 0.95, "recovery r = " .. r)
  end)

  it("hashes are pure functions of their inputs", function()
    assert.equal(hash.string("abc", 1), hash.string("abc", 1))
    assert.is_not.equal(hash.string("abc", 1), hash.string("abc", 2))
    local u = hash.uniform(hash.mix(12345))
    assert.is_true(u > 0 and u < 1)
  end)
end)
