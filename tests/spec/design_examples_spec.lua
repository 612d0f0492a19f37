-- The follow-up designs as example experiments (experiments/trigger.lua, replicates.lua,
-- decide-explain.lua, temperature.lua), each run small on the simulated subject and checked
-- against what the subject is known to do (docs/simulated-subject.md): a trained trigger flips
-- the weights, replicates differ by their seeds, a report after a decision is pulled toward it,
-- sampled choices follow the same weights at every temperature.
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local support = require "paper_support"
local util = require "introspect.core.util"

-- run(script, args) -> out dir, summary (fails the test on a non-zero exit)
local function run(script, args)
  local dir = support.tmpdir()
  local p = io.popen(string.format("'%s' experiments/%s --out=%s %s 2>&1; echo \"exit=$?\"", support.BIN, script,
    dir, args))
  local text = p:read("a")
  p:close()
  assert.are.equal("0", text:match("exit=(%d+)%s*$"), text)
  return dir, cjson.decode((assert(util.read_file(dir .. "/summary.json")))), text
end

local function lines_of(path) return #assert(csv.read(path)).rows end

describe("experiments/", function()
  it("are at most 60 lines, headed by a comment, with --backend, --max-cost and --out", function()
    for _, name in ipairs({ "trigger", "replicates", "decide-explain", "temperature" }) do
      local text = assert(util.read_file("experiments/" .. name .. ".lua"))
      local _, n = text:gsub("\n", "")
      assert.is_true(n <= 60, name .. ": " .. n .. " lines")
      assert.matches("^%-%- experiments/" .. name:gsub("%-", "%%-") .. "%.lua: ", text)
      for _, o in ipairs({ "backend", "max%-cost", "out" }) do assert.matches('"' .. o .. '"', text, nil, name) end
    end
  end)

  it("trigger.lua: the trained trigger flips the learned weights and the reports follow them", function()
    local dir, s = run("trigger.lua", "--contexts=16")
    assert.is_true(s.learned_vs_target.plain.r > 0.7, cjson.encode(s.learned_vs_target))
    assert.is_true(s.learned_vs_target.trigger.r < -0.5, cjson.encode(s.learned_vs_target))
    for _, c in ipairs({ "plain", "trigger" }) do   -- reports match their own condition's weights
      local other = c == "plain" and "trigger" or "plain"
      assert.is_true(s.accuracy[c .. "/" .. c].lo > 0, c)
      assert.is_true(s.accuracy[c .. "/" .. c].slope > s.accuracy[c .. "/" .. other].slope + 0.2, c)
    end
    assert.are.equal(4, lines_of(dir .. "/accuracy.csv"))
    local learned = assert(csv.read(dir .. "/learned.csv"))
    assert.are.equal("condition", learned.header[1])
    assert.are.equal(32, #learned.rows)
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("replicates.lua: seeds reach the fine-tunes, replicates differ, the crossed interval is wider", function()
    local dir, s = run("replicates.lua", "--replicates=3 --contexts=30 --trials=30 --reports=5")
    assert.are.equal(3, #s.replicates)
    assert.is_true(s.between_sd > 0.005 and s.between_sd < 0.25, tostring(s.between_sd))
    assert.is_true(s.pooled.boot_hi - s.pooled.boot_lo > s.pooled.hi - s.pooled.lo)
    local m = cjson.decode((assert(util.read_file(dir .. "/manifest.json"))))
    for r = 1, 3 do assert.are.equal(3 + r, m.fine_tunes["instill_r" .. r .. " <- sim-large"].seed) end
    local w = assert(csv.read(dir .. "/learned.csv"))
    local differ = 0
    for i = 1, 30 do if w.rows[i].b_attr1 ~= w.rows[i + 30].b_attr1 then differ = differ + 1 end end
    assert.is_true(differ > 5, differ .. " of 30 contexts differ between replicates 1 and 2")
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("decide-explain.lua: explanations agree with the choice more than plain reports do (rationalization)", function()
    local dir, s = run("decide-explain.lua", "--contexts=12 --trials=20")
    local a = s.agreement
    assert.is_true(a.learned.agreement > 0.8, cjson.encode(a))
    assert.is_true(a.plain_report.lo > 0.5, cjson.encode(a))
    assert.is_true(s.explanation_minus_plain.lo > 0, cjson.encode(s.explanation_minus_plain))
    assert.are.equal(0.5, s.chance)
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("temperature.lua: every sample is kept, and the soft fits recover the weights at each temperature", function()
    local dir, s = run("temperature.lua", "--contexts=12 --trials=20 --samples=5 --reports=3")
    assert.are.equal(3, #s.temperatures)
    for _, t in ipairs(s.temperatures) do
      assert.is_true(t.learned_vs_target > 0.85, cjson.encode(t))
      assert.are.equal(t.temperature > 0 and 5 or 1, t.samples)
      assert.are.equal(12 * 20 * t.samples, t.valid)
    end
    assert.are.equal(12 * 20 * 5, lines_of(dir .. "/selections_T0.7.csv"))
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)
