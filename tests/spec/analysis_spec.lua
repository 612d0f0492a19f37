-- introspect.analysis and introspect.design.replies: the accuracy bars on the published
-- gpt-4o-mini-2024-07-18 files (method.md section 5), bad input, reply parsing.
local skip = require "lib.skip"
local analysis = require "introspect.analysis"
local replies = require "introspect.design.replies"
local csv = require "introspect.core.csv"
local util = require "introspect.core.util"

local root = os.getenv("INTROSPECT_SOURCE") or "."
local data = root .. "/../shared/paper-data"
local MODEL = "gpt-4o-mini-2024-07-18"
local have_data = util.file_exists(data .. "/" .. MODEL .. "_regression_results.csv")

-- method.md section 5, recomputed from the published CSVs for gpt-4o-mini (slope, r, rows).
local REFERENCE = {
  base = { slope = -0.008, r = -0.008, n = 480 },
  instilled = { slope = 0.5045, r = 0.506, n = 395, contexts = 79 },
  itrained = { slope = 0.753, r = 0.752, n = 500 },
  native_instilled = { slope = 0.394, r = 0.398, n = 380, contexts = 76 },
  native_itrained = { slope = 0.699, r = 0.699, n = 500 },
}

local function check_reference(summary, tol)
  local m = summary.models[MODEL]
  assert.is_true(math.abs(m.learned_vs_target.r - 0.871) <= tol, "learned_vs_target")
  assert.are.equal(500, m.learned_vs_target.n)
  for cond, ref in pairs(REFERENCE) do
    local got = m.reports[cond]
    assert.is_truthy(got, cond)
    assert.is_true(math.abs(got.slope - ref.slope) <= tol,
      string.format("%s slope %.4f vs %.4f", cond, got.slope, ref.slope))
    assert.is_true(math.abs(got.r - ref.r) <= tol, string.format("%s r %.4f vs %.4f", cond, got.r, ref.r))
    assert.are.equal(ref.n, got.n, cond)
    if ref.contexts then assert.are.equal(ref.contexts, got.contexts, cond) end
    assert.is_true(got.lo < got.slope and got.slope < got.hi)
  end
end

describe("analysis on the published gpt-4o-mini files", function()
  if not have_data then
    it("needs ../shared/paper-data", function()
      skip.missing("analysis_spec", "../shared/paper-data absent (" .. data
        .. "): the paper's section-5 numbers were not checked")
    end)
    return
  end
  local input, fitted = analysis.load_published(data, MODEL)
  local own = analysis.summarize(input)

  it("fits weights that match the published brms results (>= 95% within 1, none > 3)", function()
    for key, file in pairs({ learned = "_regression_results.csv",
      native_learned = "_latent_regression_results.csv" }) do
      local published = assert(analysis.read_weights(data .. "/" .. MODEL .. file))
      local within, total, worst = 0, 0, 0
      for _, s in ipairs(published.order) do
        for j = 1, 5 do
          local d = math.abs(fitted[key][s][j] - published[s][j])
          total = total + 1
          if d <= 1 then within = within + 1 end
          worst = math.max(worst, d)
        end
      end
      assert.are.equal(500, total)
      assert.is_true(within >= 475, key .. ": " .. within .. " of 500 within 1")
      assert.is_true(worst <= 3, key .. ": worst " .. worst)
    end
  end)

  it("finds exactly the 28 separated contexts by maximum likelihood", function()
    -- 28 is what a linear-programming separation test (scipy linprog) finds on these data.
    local ranges = assert(analysis.read_ranges(data .. "/scenarios.csv"))
    local groups = analysis.design(assert(analysis.read_selections(
      data .. "/" .. MODEL .. "_instilled_selections.csv")), ranges)
    local res = require("introspect.stats").fit_many(groups, { method = "ml" })
    local separated, converged = 0, 0
    for _, r in ipairs(res) do
      if r.error then
        assert.matches("separation", r.error)
        separated = separated + 1
      else
        assert.is_true(r.converged)
        converged = converged + 1
      end
    end
    assert.are.equal(28, separated)
    assert.are.equal(72, converged)
  end)

  it("reproduces every section-5 number within 0.01 with its own fit", function()
    check_reference(own, 0.01)
  end)

  it("reproduces every section-5 number within 0.002 with --learned=published", function()
    local m = input.models[MODEL]
    m.learned = assert(analysis.read_weights(data .. "/" .. MODEL .. "_regression_results.csv"))
    m.native_learned = assert(analysis.read_weights(data .. "/" .. MODEL .. "_latent_regression_results.csv"))
    local published = analysis.summarize(input)
    check_reference(published, 0.002)
    -- statsmodels OLS `zb ~ zr * it` on the same rows (computed independently): the zr:it
    -- coefficient and its 95% interval.
    local expect = {
      training_effect = { 0.24853692897672275, 0.14861703937676257, 0.3484568185766829 },
      native_training_effect = { 0.3054376887676935, 0.1978372369770058, 0.4130381405583812 },
    }
    for key, e in pairs(expect) do
      local te = published.models[MODEL][key]
      assert.is_true(math.abs(te.diff - e[1]) < 1e-9 and math.abs(te.lo - e[2]) < 1e-9
        and math.abs(te.hi - e[3]) < 1e-9, key)
    end
  end)

  it("says which contexts had no valid reports", function()
    local m = own.models[MODEL]
    assert.are.equal(21, #m.invalid_reports.instilled.contexts_without_reports)
    assert.are.equal(24, #m.invalid_reports.native_instilled.contexts_without_reports)
    local text = table.concat(m.left_out, "\n")
    assert.matches("instilled: 21 contexts have no valid reports: [%w_, ]*popcorn", text)
  end)

  it("runs as a script and writes the published layout and summary.json", function()
    local bin = os.getenv("INTROSPECT_BIN")
    if not bin or not util.file_exists(bin) then
      skip.missing("analysis_spec", "no introspect host binary (INTROSPECT_BIN)")
      return
    end
    local out = os.tmpname()
    os.remove(out)
    local cmd = string.format("%s %s/experiments/analyze-published.lua --data=%s --model=%s " ..
      "--out=%s --draws=400 >/dev/null 2>&1", bin, root, data, MODEL, out)
    assert.is_true(os.execute(cmd) == true)
    local t = assert(csv.read(out .. "/" .. MODEL .. "_regression_results.csv"))
    assert.are.same({ "scenario", "b_attr1", "b_attr2", "b_attr3", "b_attr4", "b_attr5" }, t.header)
    assert.are.equal(100, #t.rows)
    local text = assert(util.read_file(out .. "/summary.json"))
    local summary = require("cjson").decode(text)
    local m = summary.models[MODEL]
    for _, cond in ipairs(analysis.CONDITIONS) do
      for _, k in ipairs({ "slope", "lo", "hi", "r", "n", "contexts" }) do
        assert.is_number(m.reports[cond][k], cond .. "." .. k)
      end
    end
    for _, k in ipairs({ "diff", "lo", "hi" }) do
      assert.is_number(m.training_effect[k])
      assert.is_number(m.native_training_effect[k])
    end
    os.execute("rm -rf '" .. out .. "'")
    -- nothing to analyse: exit status 1 and the reason on stderr
    local p = io.popen(string.format("%s %s/experiments/analyze-published.lua --data=%s/nonexistent "
      .. "--model=%s --out=%s 2>&1; echo rc=$?", bin, root, out, MODEL, out))
    local output = p:read("a")
    p:close()
    os.execute("rm -rf '" .. out .. "'")
    assert.matches("no scenario definitions", output)
    assert.matches("rc=1", output)
  end)
end)

-- Writes a small data directory: 3 contexts with 5 attributes; choices from known weights.
local function tiny_dir(mutate)
  local dir = os.tmpname()
  os.remove(dir)
  util.mkdir_p(dir)
  local names = { "ctx_a", "ctx_b", "ctx_c", "ctx_d" }
  local sc = { "scenario,question,attr1,attr2,attr3,attr4,attr5,attr1_min,attr2_min,attr3_min,"
    .. "attr4_min,attr5_min,attr1_max,attr2_max,attr3_max,attr4_max,attr5_max" }
  local tw = { "scenario,attr1,attr2,attr3,attr4,attr5" }
  local sel = { "model,scenario,selection,A_attribute_1,A_attribute_2,A_attribute_3,A_attribute_4,"
    .. "A_attribute_5,B_attribute_1,B_attribute_2,B_attribute_3,B_attribute_4,B_attribute_5" }
  local rep = { "explaining_model,version,scenario,report_attr1,report_attr2,report_attr3,"
    .. "report_attr4,report_attr5,A_attribute_1,A_attribute_2,A_attribute_3,A_attribute_4,"
    .. "A_attribute_5,B_attribute_1,B_attribute_2,B_attribute_3,B_attribute_4,B_attribute_5" }
  local w = { ctx_a = { 100, -50, 20, 0, -80 }, ctx_b = { -30, 100, 60, -90, 10 },
    ctx_c = { 40, 40, -100, 70, -20 }, ctx_d = { 5, -100, 35, 50, 90 } }
  local k = 0
  for _, s in ipairs(names) do
    sc[#sc + 1] = s .. ",Q?,x1,x2,x3,x4,x5,0,0,0,0,0,10,10,10,10,10"
    tw[#tw + 1] = s .. "," .. table.concat(w[s], ",")
    for t = 1, 40 do
      local a, b, ua, ub = {}, {}, 0, 0
      for j = 1, 5 do
        k = k + 1
        a[j], b[j] = (k * 7) % 11, (k * 5 + t) % 11
        a[j], b[j] = math.min(a[j], 10), math.min(b[j], 10)
        ua, ub = ua + w[s][j] * a[j], ub + w[s][j] * b[j]
      end
      sel[#sel + 1] = string.format("m,%s,%s,%s,%s", s, ua > ub and "A" or "B",
        table.concat(a, ","), table.concat(b, ","))
    end
    for v = 1, 3 do
      local r = {}
      for j = 1, 5 do r[j] = w[s][j] + (v * j) % 7 - 3 end
      rep[#rep + 1] = string.format("ft,x,%s,%s,1,1,1,1,1,2,2,2,2,2", s, table.concat(r, ","))
    end
  end
  local files = { ["scenarios.csv"] = sc, ["instilled_weights.csv"] = tw,
    ["M_instilled_selections.csv"] = sel, ["M_instilled_weight_reports.csv"] = rep }
  if mutate then mutate(files) end
  for name, lines in pairs(files) do
    assert(util.write_file_atomic(dir .. "/" .. name, table.concat(lines, "\n") .. "\n"))
  end
  return dir
end

describe("analysis on bad input", function()
  local function run(mutate)
    local dir = tiny_dir(mutate)
    local input = analysis.load_published(dir, "M", { draws = 400 })
    local summary = analysis.summarize(input)
    os.execute("rm -rf '" .. dir .. "'")
    return summary.models.M, input.models.M
  end

  it("analyzes a clean small data set", function()
    local m, raw = run()
    assert.are.equal(4, #raw.learned.order)
    assert.is_true(m.reports.instilled.slope > 0.5)
    assert.is_true(m.learned_vs_target.r > 0.8)
  end)

  it("names the file and column when a column is missing, and goes on", function()
    local m = run(function(f) f["M_instilled_weight_reports.csv"][1] =
      f["M_instilled_weight_reports.csv"][1]:gsub("report_attr3", "report_attrX") end)
    local text = table.concat(m.left_out, "\n")
    assert.matches("M_instilled_weight_reports.csv:1: missing column 'report_attr3'", text, 1, true)
    assert.is_nil(m.reports.instilled)
    assert.is_truthy(m.learned_vs_target) -- the rest went on
  end)

  it("names file, line and column of a non-numeric cell and leaves the row out", function()
    local m, raw = run(function(f)
      f["M_instilled_selections.csv"][3] = f["M_instilled_selections.csv"][3]:gsub(",(%d+),", ",abc,", 1)
    end)
    local text = table.concat(m.left_out, "\n")
    assert.matches("M_instilled_selections.csv:3: column 'A_attribute_1' is not a number: 'abc'; row left out",
      text, 1, true)
    assert.are.equal(4, #raw.learned.order)
  end)

  it("names a context with no valid reports", function()
    local m = run(function(f)
      local keep = {}
      for _, line in ipairs(f["M_instilled_weight_reports.csv"]) do
        if not line:find(",ctx_b,", 1, true) then keep[#keep + 1] = line end
      end
      f["M_instilled_weight_reports.csv"] = keep
    end)
    assert.are.same({ "ctx_b" }, m.invalid_reports.instilled.contexts_without_reports)
    assert.matches("instilled: 1 contexts have no valid reports: ctx_b", table.concat(m.left_out, "\n"))
    assert.are.equal(3, m.reports.instilled.contexts)
  end)

  it("names a context with a constant attribute and leaves it out", function()
    local m, raw = run(function(f)
      local lines = f["M_instilled_selections.csv"]
      for i = 2, #lines do
        if lines[i]:find(",ctx_c,", 1, true) then
          local cells = {}
          for c in lines[i]:gmatch("[^,]+") do cells[#cells + 1] = c end
          cells[5], cells[10] = "4", "4" -- attribute 2: A = B = 4 in every choice
          lines[i] = table.concat(cells, ",")
        end
      end
    end)
    assert.matches("context 'ctx_c': attribute 'x2' does not vary", table.concat(m.left_out, "\n"))
    assert.are.equal(3, #raw.learned.order)
    assert.is_truthy(m.reports.instilled)
  end)

  it("names a context whose range is constant", function()
    local m = run(function(f)
      f["scenarios.csv"][2] = f["scenarios.csv"][2]:gsub(",10,10,10,10,10$", ",0,10,10,10,10")
    end)
    assert.matches("context 'ctx_a': attribute 'x1' has a constant range", table.concat(m.left_out, "\n"))
  end)
end)

describe("replies", function()
  local names = { "a", "b", "c", "d", "e" }

  it("accepts exactly the attribute names, with or without code fences", function()
    assert.are.same({ 1, -2, 3.5, 0, 100 },
      replies.parse('```json\n{"a": 1, "b": -2, "c": 3.5, "d": 0, "e": 100}\n```', names))
    assert.are.same({ 1, 2, 3, 4, 5 }, replies.parse('{"e":5,"d":4,"c":3,"b":2,"a":1}', names))
  end)

  it("gives the reason for an invalid reply", function()
    local cases = {
      { "", "empty" }, { "A", "not_json" }, { "[1,2,3,4,5]", "not_object" },
      { '{"a":1,"b":2,"c":3,"d":4}', "wrong_keys" },
      { '{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}', "wrong_keys" },
      { '{"a":1,"b":2,"c":3,"d":4,"e":"high"}', "not_number" },
    }
    for _, c in ipairs(cases) do
      local v, reason = replies.parse(c[1], names)
      assert.is_nil(v)
      assert.are.equal(c[2], reason, c[1])
    end
  end)

  it("collects valid reports and counts invalid ones by reason", function()
    local reports, invalid = replies.collect({
      { scenario = "s", model = "m", text = '{"a":1,"b":2,"c":3,"d":4,"e":5}' },
      { scenario = "s", model = "m", text = "I cannot" },
      { scenario = "s", model = "m", text = '{"a":1}' },
      { scenario = "zzz", model = "m", text = '{}' },
    }, { s = names })
    assert.are.equal(1, #reports)
    assert.are.same({ 1, 2, 3, 4, 5 }, reports[1].report)
    assert.are.equal(3, invalid.invalid)
    assert.are.same({ not_json = 1, wrong_keys = 1, unknown_context = 1 }, invalid.reasons)
  end)
end)

describe("analysis.training_effect", function()
  local function rows(slope, shift, n)
    local r = {}
    for i = 1, n do
      local x = (i % 9) - 4 + i / 100
      r[i] = { x = x, y = slope * x + ((i * 7) % 5 - 2) / 3 + shift }
    end
    return r
  end
  local p1 = { untrained = rows(0.4, 0, 60), trained = rows(0.7, 0.1, 60) }
  local p2 = { untrained = rows(0.5, 0.2, 80), trained = rows(0.9, 0, 80) }

  it("equals the two-slope difference for one base model", function()
    local d = assert(analysis.training_effect({ p1 }))
    local x1, y1, x2, y2 = {}, {}, {}, {}
    for i, r in ipairs(p1.untrained) do x1[i], y1[i] = r.x, r.y end
    for i, r in ipairs(p1.trained) do x2[i], y2[i] = r.x, r.y end
    local s = assert(require("introspect.stats").slope_difference(x1, y1, x2, y2))
    assert.is_true(math.abs(d.diff - s.diff) < 1e-12 and math.abs(d.lo - s.lo) < 1e-9)
    assert.is_true(math.abs(d.diff - 0.3) < 0.02)
  end)

  it("averages the differences over base models", function()
    local d1, d2 = analysis.training_effect({ p1 }), analysis.training_effect({ p2 })
    local both = assert(analysis.training_effect({ p1, p2 }))
    assert.is_true(math.abs(both.diff - (d1.diff + d2.diff) / 2) < 1e-12)
    assert.is_true(both.hi - both.lo < math.max(d1.hi - d1.lo, d2.hi - d2.lo))
  end)
end)
