-- The authors' R effects script accepts our output unchanged: its selection rules (emulated in
-- tests/r_effects.lua) applied to a paper.lua run on the simulated subject give exactly the
-- slopes of our own analysis; on the published files they give the published numbers; an old
-- run directory (fine-tune suffix "instill", version "instilled_100" on native contexts) stays
-- readable by analyze-published.
local analysis = require "introspect.analysis"
local csv = require "introspect.core.csv"
local r_effects = require "r_effects"
local support = require "paper_support"
local util = require "introspect.core.util"

local root = os.getenv("INTROSPECT_SOURCE") or "."
local data = root .. "/../shared/paper-data"
local MODEL = "gpt-4o-mini-2024-07-18"

local function near(a, b, tol, what)
  assert.is_true(a ~= nil and b ~= nil and math.abs(a - b) <= tol,
    string.format("%s: %s vs %s", what, tostring(a), tostring(b)))
end

describe("the R script's rules on the published files", function()
  if not util.file_exists(data .. "/" .. MODEL .. "_regression_results.csv") then
    it("needs ../shared/paper-data", function()
      print("SKIP: ../shared/paper-data absent (" .. data .. ")")
      assert.is_not_true(os.getenv("CI") == "true", "CI needs ../shared/paper-data")
      pending("../shared/paper-data absent")
    end)
    return
  end
  it("give the slopes of analysis.summarize (the emulation is faithful)", function()
    local input = analysis.load_published(data, MODEL, { learned = "published", draws = 100 })
    local ours = analysis.summarize(input).models[MODEL].reports
    local theirs = r_effects.effects(data, { MODEL })[MODEL]
    for _, cond in ipairs(analysis.CONDITIONS) do
      near(theirs[cond], ours[cond].slope, 1e-9, cond)
      assert.are.equal(ours[cond].n, theirs.rows[cond], cond .. " rows")
    end
  end)
end)

describe("a paper.lua run on the subject", function()
  local dir = support.tmpdir()
  local out, code = support.run("--contexts=100 --trials=10 --reports=2 --models=sim-small --out=" .. dir)
  local summary = code == 0 and support.read_json(dir .. "/summary.json")

  it("runs", function()
    assert.are.equal(0, code, out)
  end)

  it("names fine-tunes and report versions as the published files do", function()
    local want = {
      ["_instilled_weight_reports.csv"] = { "^ft:sim%-small:[^:]+:100%-instilled%-prefs%-50ex:", "instilled_100" },
      ["_itrained_first_50_of_100_50ex_weight_reports.csv"] =
        { "^ft:sim%-small:[^:]+:itrained%-first%-50%-of%-100%-50ex:", "instilled_100" },
      ["_itrained_last_50_of_100_50ex_weight_reports.csv"] =
        { "^ft:sim%-small:[^:]+:itrained%-last%-50%-of%-100%-50ex:", "instilled_100" },
      ["_instilled_latent_weight_reports.csv"] =
        { "^ft:sim%-small:[^:]+:100%-instilled%-prefs%-50ex:", "latent_100%-200" },
      ["_itrained_all_100_50ex_latent_weight_reports.csv"] =
        { "^ft:sim%-small:[^:]+:itrained%-all%-100%-50ex:", "latent_100%-200" },
      ["_weight_reports.csv"] = { "^sim%-small$", "instilled_100" },
    }
    for file, w in pairs(want) do
      local t = assert(csv.read(dir .. "/sim-small" .. file))
      assert.is_true(#t.rows > 0, file)
      for _, row in ipairs(t.rows) do
        assert.matches(w[1], row.explaining_model, nil, file)
        assert.matches("^" .. w[2] .. "$", row.version, nil, file)
      end
    end
  end)

  it("gives our slopes under the R script's selection rules", function()
    -- the script tells the two base models apart by "mini"; with other names, its native
    -- base_model line reads the name from "ft:BASE:" (docs/reproducing-the-paper.md)
    local theirs = r_effects.effects(dir, { "sim-small" },
      { native_base = function(m) return m:match("^ft:(.-):") end })
    for _, base in ipairs({ "sim-small" }) do
      for _, cond in ipairs(analysis.CONDITIONS) do
        local ours = summary.models[base].reports[cond]
        near(theirs[base][cond], ours.slope, 1e-9, base .. " " .. cond)
        assert.are.equal(ours.n, theirs[base].rows[cond], base .. " " .. cond .. " rows")
      end
    end
  end)

  it("an old run directory (suffix 'instill', one version label) stays readable", function()
    local old = support.tmpdir()
    os.execute(string.format("cp -r '%s' '%s'", dir, old))
    local p = io.popen("ls '" .. old .. "'")
    for name in p:lines() do
      if name:match("weight_reports%.csv$") then
        local text = assert(util.read_file(old .. "/" .. name))
        text = text:gsub(":100%-instilled%-prefs%-50ex:", ":instill:"):gsub(",latent_100%-200,", ",instilled_100,")
        assert(util.write_file_atomic(old .. "/" .. name, text))
      end
    end
    p:close()
    local cmd = "%s %s/experiments/analyze-published.lua --data=%s --model=sim-small --learned=published "
      .. "--out=%s >/dev/null 2>&1"
    assert.is_true(os.execute(string.format(cmd, support.BIN, root, old, old .. "/a")) == true)
    assert.is_true(os.execute(string.format(cmd, support.BIN, root, dir, dir .. "/a")) == true)
    local a, b = support.read_json(old .. "/a/summary.json"), support.read_json(dir .. "/a/summary.json")
    assert.are.same(b.models["sim-small"].reports, a.models["sim-small"].reports)
    os.execute("rm -rf '" .. old .. "' '" .. dir .. "'")
  end)
end)
