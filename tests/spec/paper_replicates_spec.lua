-- paper.lua --replicates=N: N independent instill fine-tunes per base model (fine-tune seeds 4,
-- 5, ...), each evaluated as in the study. Replicate 1 is exactly the paper's run (N = 1 keeps
-- summary.json's keys); replicates add summary.models["BASE rR"] and summary.replicates with the
-- between-replicate SD of each headline slope, which on the subject is its configured
-- replicate_sd (docs/simulated-subject.md, Replicates) up to the sampling error of an SD.
local support = require "paper_support"

local ARGS = "--contexts=30 --trials=20 --reports=5 --models=sim-large"

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe("paper.lua --replicates", function()
  local one, three = support.tmpdir(), support.tmpdir()
  local out1, code1 = support.run(ARGS .. " --out=" .. one)
  local out3, code3 = support.run(ARGS .. " --replicates=3 --out=" .. three)
  local s1 = code1 == 0 and support.read_json(one .. "/summary.json")
  local s3 = code3 == 0 and support.read_json(three .. "/summary.json")

  it("runs", function()
    assert.are.equal(0, code1, out1)
    assert.are.equal(0, code3, out3)
  end)

  it("N = 1 keeps summary.json's keys; replicate 1 of N = 3 is that run exactly", function()
    assert.are.same({ "backend", "cost", "models", "timings" }, keys(s1))
    assert.are.same({ "sim-large" }, keys(s1.models))
    assert.are.same(s1.models["sim-large"], s3.models["sim-large"])
    assert.are.same({ "sim-large", "sim-large r2", "sim-large r3" }, keys(s3.models))
  end)

  it("adds the between-replicate SD of each headline slope, within the subject's range", function()
    local R = s3.replicates["sim-large"]
    assert.are.same({ "sim-large", "sim-large r2", "sim-large r3" }, R.models)
    local sd = R.between.reports.instilled.sd
    -- replicate_sd = 0.07; an SD from 3 replicates has 2 degrees of freedom: 95% of estimates
    -- fall within 0.16-1.92 times the true SD
    assert.is_true(sd > 0.07 * 0.16 and sd < 0.07 * 1.92, tostring(sd))
    assert.are.equal(3, R.pooled.instilled.replicates)
    local P = R.pooled.instilled
    assert.is_true(P.boot_hi - P.boot_lo > P.hi - P.lo, "the crossed interval is wider than the naive one")
    local m = support.read_json(three .. "/manifest.json")
    assert.are.equal(5, m.fine_tunes["instill_r2 <- sim-large"].seed)
    assert.matches(":r3%-30%-instilled%-prefs%-50ex:", m.fine_tunes["instill_r3 <- sim-large"].model)
    os.execute("rm -rf '" .. one .. "' '" .. three .. "'")
  end)
end)
