-- Correctness oracle for experiments/logprobs.lua: its decisions, the P(A) their logprobs carry
-- and its weight estimates checked against the simulated subject's ground truth (api:truth),
-- rebuilt from the run's sim-state/ and responses.sqlite by tests/lib/oracle.lua. The oracle
-- reads every reply and P(A) from the stored responses itself (not through the study's parser).
-- The subject is untrained, so it reads each value on its order of magnitude; the weights a fit
-- on the study's predictors (A - B) / (max - min) recovers are its effective weights, the
-- least-squares projection of its true utility logits on those predictors (oracle.effective),
-- which equal its actual native weights where a value's order of magnitude is constant.
-- Bounds come from the design's size (standard errors at the truth, oracle.compare: Fisher's
-- for sampled choices, the sandwich for P(A) soft labels, whose variance is smaller than a
-- Bernoulli's) and the subject's documented choice noise, never from another run.
local O = require "lib.oracle"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")
local CONTEXTS, SIZES, REPS = 8, { 20, 80 }, 3
local N = SIZES[#SIZES]

describe("logprobs.lua against the subject's ground truth", function()
  local dir = os.tmpname()
  os.remove(dir)
  local p = io.popen(string.format("cd '%s' && '%s' experiments/logprobs.lua --contexts=%d --requests=%s "
    .. "--replications=%d --out=%s 2>&1; echo \"exit=$?\"", SOURCE, BIN, CONTEXTS, table.concat(SIZES, ","), REPS,
    dir))
  local out = p:read("a")
  p:close()
  assert(out:match("exit=0%s*$"), out)
  local ranges = O.ranges(dir .. "/scenarios.csv")
  local by_question = {}
  for s, r in pairs(ranges) do by_question[r.question] = s end
  local truth = O.subject(dir)

  -- reps[r][scenario] = {X=, y= (P(A), the oracle's reading), choice= (1 for "A"), items=}: the
  -- run's decisions in the order stored, replication r being the r-th block of CONTEXTS * N
  local decisions, reps = {}, {}
  for _, q in ipairs(truth.prompts) do
    if q.kind == "decision" then decisions[#decisions + 1] = q end
  end
  for i, q in ipairs(decisions) do
    local r = (i - 1) // (CONTEXTS * N) + 1
    local s = assert(by_question[q.parsed.ctx.question], "a prompt for no context of scenarios.csv")
    reps[r] = reps[r] or {}
    local g = reps[r][s] or { X = {}, y = {}, choice = {}, items = {}, model = q.model }
    reps[r][s] = g
    local x, rg = {}, ranges[s]
    for j = 1, #rg.min do x[j] = (q.parsed.a[j] - q.parsed.b[j]) / (rg.max[j] - rg.min[j]) end
    g.X[#g.X + 1], g.y[#g.y + 1], g.choice[#g.choice + 1] = x, O.p_a(q.response), q.reply == "A" and 1 or 0
    g.items[#g.items + 1] = { model = q.model, messages = q.body.messages, selection = q.reply }
  end

  -- groups(r, labels) -> replication r as oracle.compare groups, y = P(A) or the sampled choice
  local function groups(r, labels)
    local gs = { order = {} }
    for s, g in pairs(reps[r]) do
      gs.order[#gs.order + 1] = s
      gs[s] = { model = g.model, X = g.X, y = labels == "logprobs" and g.y or g.choice, items = g.items }
    end
    table.sort(gs.order)
    return gs
  end
  local effective = {}
  local function actual_of(g)
    effective[g.X] = effective[g.X] or O.effective(truth, g.items, g.X)
    return effective[g.X]
  end

  it("stores every decision, each the subject's answer with the P(A) it gives", function()
    assert.equal(REPS * CONTEXTS * N, #decisions)
    for r = 1, REPS do
      local n = 0
      for _, g in pairs(reps[r]) do
        assert.equal(N, #g.X)
        n = n + 1
      end
      assert.equal(CONTEXTS, n)
    end
    for i, q in ipairs(decisions) do
      assert.is_true(q.body.logprobs == true and q.body.temperature == 0, "decision " .. i .. " asked without logprobs")
      assert.equal(O.ask(truth, q.body), q.reply, "decision " .. i)
      local facts = assert(truth.api:truth(q.model, q.body.messages))
      assert.is_true(math.abs(O.p_a(q.response) - facts.p_a) < 1e-9,
        string.format("decision %d: P(A) %s stored, the subject's is %.6f", i, tostring(O.p_a(q.response)), facts.p_a))
    end
  end)

  it("samples choices on the side of the true utility at the rate its choice noise implies", function()
    local items = {}
    for _, q in ipairs(decisions) do
      items[#items + 1] = { model = q.model, messages = q.body.messages, selection = q.reply }
    end
    local agree, expected, sd = O.choice_agreement(truth, items)
    assert.is_true(math.abs(agree - expected) < 4 * sd,
      string.format("%.3f of the choices follow the true utility; the noise implies %.3f +- %.3f", agree, expected, sd))
  end)

  it("recovers the subject's weights from P(A) as soft labels, by an independent IRLS fit", function()
    for r = 1, REPS do
      local gs, learned = groups(r, "logprobs"), {}
      for _, s in ipairs(gs.order) do
        local beta = O.irls(gs[s].X, gs[s].y)
        learned[s] = O.scale100({ table.unpack(beta, 2) })
      end
      local c = O.compare(gs, learned, actual_of, true)
      assert.is_true(c.z2 < 2.5, string.format("replication %d: mean squared standardized error %.2f", r, c.z2))
      assert.is_true(c.r > c.r_design - 0.1,
        string.format("replication %d: r(P(A) fit, truth) %.3f, design implies %.3f", r, c.r, c.r_design))
    end
  end)

  it("estimates from P(A) and from sampled choices what the truth and the design imply", function()
    local t = O.read_csv(dir .. "/logprobs_weights.csv")
    local est = {}
    for _, row in ipairs(t.rows) do
      if tonumber(row.requests_per_context) == N then
        local key = row.replication .. "|" .. row.labels
        est[key] = est[key] or {}
        local w, j = {}, 1
        while row["b_attr" .. j] do w[j] = assert(tonumber(row["b_attr" .. j])); j = j + 1 end
        est[key][row.scenario] = w
      end
    end
    for r = 1, REPS do
      for _, labels in ipairs({ "logprobs", "choices" }) do
        local learned = assert(est[r .. "|" .. labels], "no estimates for replication " .. r .. ", " .. labels)
        local c = O.compare(groups(r, labels), learned, actual_of, labels == "logprobs")
        local what = string.format("replication %d, %s", r, labels)
        assert.is_true(c.z2 < 2.5, what .. ": mean squared standardized error " .. c.z2)
        assert.is_true(c.r > c.r_design - 0.1, string.format("%s: r(estimate, truth) %.3f, design implies %.3f",
          what, c.r, c.r_design))
        -- the script fitted these labels: its estimate is nearer an IRLS fit of them than of the
        -- other labels (the two differ by the choice noise, the fits of one only by their priors)
        local other = O.compare(groups(r, labels == "logprobs" and "choices" or "logprobs"), learned, actual_of)
        assert.is_true(c.r_ref > other.r_ref, string.format("%s: r(estimate, IRLS of its labels) %.4f, of the "
          .. "other labels %.4f", what, c.r_ref, other.r_ref))
      end
    end
  end)
end)
