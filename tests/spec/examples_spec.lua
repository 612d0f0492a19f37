-- The example experiments (experiments/power.lua, logprobs.lua, curriculum.lua, new-domain.lua)
-- run as a researcher runs them, on the simulated subject at a small size; each one's outputs
-- are checked for what the example claims to show.
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local util = require "introspect.core.util"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

-- run(script, args) -> output (stdout and stderr), exit code; runs from the repository root.
local function run(script, args)
  local p = io.popen(string.format("cd '%s' && '%s' experiments/%s %s 2>&1; echo \"exit=$?\"", SOURCE, BIN,
    script, args))
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

local function read_csv(path)
  local t, err = csv.read(path)
  assert(t, err)
  return t
end

local function store_count(path)
  local sqlite = require "introspect.sqlite"
  local db = assert(sqlite.open(path, { readonly = true }))
  local n = db:rows("SELECT count(*) AS n FROM responses")[1].n
  db:close()
  return n
end

describe("example experiments", function()
  it("each has --help, a header comment and rejects an unknown option by name", function()
    for _, name in ipairs({ "power.lua", "logprobs.lua", "curriculum.lua", "new-domain.lua" }) do
      local out, code = run(name, "--help")
      assert.equal(0, code, out)
      assert.matches("%-%-out", out)
      local text = assert(util.read_file(SOURCE .. "/experiments/" .. name))
      assert.matches("^%-%- experiments/" .. name:gsub("%p", "%%%0") .. ": ", text)
      out, code = run(name, "--no-such-option=1")
      assert.equal(2, code, out)
      assert.matches("unknown option '%-%-no%-such%-option'", out)
    end
  end)

  it("bad inputs stop an example with a one-line message before its run directory exists", function()
    local dir = tmpdir()
    local out, code = run("curriculum.lua", "--curriculum=/nonexistent/c.lua --out=" .. dir)
    assert.equal(1, code, out)
    assert.matches("curriculum.lua: cannot open /nonexistent/c.lua", out)
    assert.is_false(util.file_exists(dir))
    out, code = run("logprobs.lua", "--contexts=5000 --out=" .. dir)
    assert.equal(1, code, out)
    assert.matches("logprobs.lua: .-library.lua: %d+ scenarios, the study needs 10000", out)
    assert.is_nil(out:find("traceback", 1, true))
    assert.is_false(util.file_exists(dir))
    out, code = run("new-domain.lua", "--contexts=50 --out=" .. dir)
    assert.equal(1, code, out)
    assert.matches("new%-domain.lua: scenarios.contexts: 50 contexts need 50 scenarios, have 34", out)
    assert.is_nil(out:find("traceback", 1, true))
    assert.is_false(util.file_exists(dir))
    out, code = run("power.lua", "--replications=1 --out=" .. dir)
    assert.equal(2, code, out)
    assert.matches("%-%-replications must be at least 2", out)
  end)

  it("power.lua: more choices and reports give a larger (less attenuated) slope and a narrower interval", function()
    local dir = tmpdir()
    local out, code = run("power.lua", "--contexts=12 --choices=10,40 --reports=1,5 --replications=4 --out=" .. dir)
    assert.equal(0, code, out)
    local t = read_csv(dir .. "/power.csv")
    assert.equal(4, #t.rows)
    local by = {}
    for _, r in ipairs(t.rows) do
      assert.equal("4", r.replications)
      by[r.choices_per_context .. "x" .. r.reports_per_context] = r
    end
    local small, large = by["10x1"], by["40x5"]
    assert.is_true(tonumber(large.mean_slope) > tonumber(small.mean_slope), out)
    assert.is_true(tonumber(large.mean_interval_width) < tonumber(small.mean_interval_width), out)
    local svg = assert(util.read_file(dir .. "/power.svg"))
    assert.matches('data%-series="2"', svg)
    assert.matches('class="hline"', svg)
    assert.equal(2, select(2, svg:gsub('class="series"', "")))
    assert.matches("^<svg", assert(util.read_file(dir .. "/power_slope.svg")))
    -- a bad list entry names the option
    out, code = run("power.lua", "--choices=10,x --out=" .. dir)
    assert.equal(2, code)
    assert.matches("%-%-choices: 'x' is not a positive integer", out)
  end)

  it("logprobs.lua: both estimates get more precise with more requests; a re-run sends nothing again", function()
    local dir = tmpdir()
    local args = "--contexts=4 --requests=10,80 --replications=4 --out=" .. dir
    local out, code = run("logprobs.lua", args)
    assert.equal(0, code, out)
    local t = read_csv(dir .. "/logprobs.csv")
    assert.equal("10", t.rows[1].requests_per_context)
    assert.equal("80", t.rows[2].requests_per_context)
    for _, col in ipairs({ "sd_choices", "sd_logprobs" }) do
      assert.is_true(tonumber(t.rows[2][col]) < tonumber(t.rows[1][col]), col)
    end
    assert.matches("^for_target_", t.rows[3].requests_per_context)
    assert.matches("P%(A%) needs %d+%% of the requests", out)
    -- every decision request carried logprobs and came back with P(A)
    assert.equal(4 * 4 * 80, store_count(dir .. "/responses.sqlite"))
    local first = util.read_file(dir .. "/logprobs.csv")
    out, code = run("logprobs.lua", args)
    assert.equal(0, code, out)
    assert.equal(4 * 4 * 80, store_count(dir .. "/responses.sqlite"))
    assert.equal(first, util.read_file(dir .. "/logprobs.csv"))
  end)

  it("curriculum.lua: the two curricula differ only in their labels (learned vs target weights)", function()
    local dir = tmpdir()
    local out, code = run("curriculum.lua", "--contexts=20 --trials=20 --reports=3 --out=" .. dir)
    assert.equal(0, code, out)
    local t = read_csv(dir .. "/curriculum.csv")
    assert.equal(12, #t.rows)   -- 3 models x {held-out, trained} x {learned, target}
    for _, r in ipairs(t.rows) do assert.is_number(tonumber(r.slope), r.model) end
    local question_of = {}
    for _, r in ipairs(read_csv(dir .. "/scenarios.csv").rows) do question_of[r.question] = r end
    local function labels(file)
      local out_ = {}
      for line in assert(util.read_file(dir .. "/" .. file)):gmatch("[^\n]+") do
        local msgs = cjson.decode(line).messages
        local scenario = question_of[msgs[2].content:match("\n\n(.-)\nA:\n")]
        assert.is_table(scenario, file)
        local reply = cjson.decode(msgs[3].content)
        local v = {}
        for j = 1, 5 do v[j] = reply[scenario["attr" .. j]] end
        out_[scenario.scenario] = v
      end
      return out_
    end
    local learned_labels = labels("itrained_first_50_learned_training.jsonl")
    local target_labels = labels("instilled_weights_10_training_test_last.jsonl")
    local learned = read_csv(dir .. "/learned_weights.csv")
    local targets = read_csv(dir .. "/instilled_weights.csv")
    local n, differ = 0, 0
    for s, v in pairs(learned_labels) do
      n = n + 1
      local lrow, trow
      for _, r in ipairs(learned.rows) do if r.scenario == s then lrow = r end end
      for _, r in ipairs(targets.rows) do if r.scenario == s then trow = r end end
      for j = 1, 5 do
        assert.equal(tonumber(lrow["b_attr" .. j]), v[j])
        assert.equal(tonumber(trow["attr" .. j]), target_labels[s][j])
        if v[j] ~= target_labels[s][j] then differ = differ + 1 end
      end
    end
    assert.equal(10, n)
    assert.is_true(differ > 0)
    assert.matches("<style>", assert(util.read_file(dir .. "/curriculum.svg")))
  end)

  it("new-domain.lua: three attributes, ranking reports, at most 50 lines", function()
    local text = assert(util.read_file(SOURCE .. "/experiments/new-domain.lua"))
    assert.is_true(select(2, text:gsub("\n", "")) <= 50)
    local dir = tmpdir()
    local out, code = run("new-domain.lua", "--contexts=8 --choices=30 --reports=3 --out=" .. dir)
    assert.equal(0, code, out)
    assert.matches("Spearman%(reported rank, |learned weight|%) = %-?%d", out)
    assert.matches("top attribute named first in %d+ of 8 contexts", out)
    local t = read_csv(dir .. "/rankings.csv")
    assert.equal(8 * 3, #t.rows)
    local per = {}
    for _, r in ipairs(t.rows) do
      per[r.scenario] = (per[r.scenario] or 0) + 1
      local rank = tonumber(r.mean_reported_rank)
      assert.is_true(rank >= 1 and rank <= 3, r.mean_reported_rank)
    end
    for s, count in pairs(per) do assert.equal(3, count, s) end
    local sel = read_csv(dir .. "/selections.csv")
    assert.equal(8 * 30, #sel.rows)
    assert.equal("B_attribute_3", sel.header[#sel.header])
    assert.equal(9, #sel.header)
    assert.equal("report_attr3", read_csv(dir .. "/ranking_reports.csv").header[6])
    -- the subject was asked for rankings and answered with them
    local raw = assert(util.read_file(dir .. "/replies/reports_sim-large.jsonl"))
    local first = cjson.decode(raw:match("^[^\n]+"))
    assert.matches("^1%. [%w_]+\n2%. [%w_]+\n3%. [%w_]+$", first.reply)
  end)
end)
