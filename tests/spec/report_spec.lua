-- introspect.run.report: report.html and summary.md from a run's summary and points.
local report = require "introspect.run.report"

local function R(slope, r, n)
  return { slope = slope, lo = slope - 0.1, hi = slope + 0.1, r = r, n = n, contexts = n // 5 }
end

local summary = {
  backend = "sim",
  models = {
    ["sim-large"] = {
      learned_vs_target = { r = 0.9, n = 500 },
      reports = { base = R(0.01, 0.02, 500), instilled = R(0.45, 0.46, 500), itrained = R(0.7, 0.71, 500),
        native_instilled = R(0.3, 0.31, 500), native_itrained = R(0.6, 0.61, 500) },
      training_effect = { diff = 0.25, lo = 0.15, hi = 0.35 },
      native_training_effect = { diff = 0.3, lo = 0.2, hi = 0.4 },
      invalid_reports = { instilled = 12,
        base = { valid = 57, invalid = 3, reasons = { not_json = 2, wrong_keys = 1 } } },
      left_out = { "instilled: context 'x' has no valid reports" },
    },
  },
}

local function points(n, seed)
  local pts, x = {}, seed
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    pts[i] = { (x % 1000) / 250 - 2, i / n * 4 - 2 }
  end
  return pts
end

describe("report.scatter", function()
  it("draws one circle per point and says how many", function()
    local svg = report.scatter(points(37, 1), { title = "t<1>", fit = true })
    local _, circles = svg:gsub("<circle ", "")
    assert.equal(37, circles)
    assert.matches('data%-points="37"', svg)
    assert.matches("t&lt;1&gt;", svg)
    assert.matches('class="fit"', svg)
  end)

  it("copes with no points and with constant data", function()
    assert.matches('data%-points="0"', report.scatter({}, {}))
    local svg = report.scatter({ { 1, 1 }, { 1, 1 } }, { fit = true })
    assert.is_nil(svg:find("nan", 1, true))
    assert.is_nil(svg:find("inf", 1, true))
  end)

  it("rejects unknown options by name", function()
    local ok, err = pcall(report.scatter, {}, { colour = "red" })
    assert.is_false(ok)
    assert.matches("report.scatter: unknown option 'colour'", err)
  end)
end)

describe("report.html", function()
  local pts = { ["sim-large"] = {} }
  for i, c in ipairs(report.CONDITIONS) do pts["sim-large"][c.key] = points(20 + i, i) end
  local html = report.html({ summary = summary, points = pts, target_points = { ["sim-large"] = points(50, 9) },
    settings = { seed = 1 }, simulated = true, title = "Run <x>" })

  it("is one self-contained page: no scripts, no external resources", function()
    assert.matches("^<!DOCTYPE html>", html)
    assert.is_nil(html:find("<script", 1, true))
    assert.is_nil(html:find("src=", 1, true))
    assert.is_nil(html:find("href=", 1, true))
    assert.matches("Run &lt;x&gt;", html)
  end)

  it("has the headline numbers beside the published ones", function()
    assert.matches("0%.450 %[0%.350, 0%.550%]; r 0%.460, n 500", html)
    assert.matches("gpt%-4o%-mini%-2024%-07%-18 %(published%)", html)
    assert.matches("0%.5045; r 0%.506, n 395, 79 contexts", html)
    assert.matches("r 0%.871, n 500", html)
  end)

  it("has one scatter plot per condition, the target plot and the effects", function()
    local _, svgs = html:gsub("<svg ", "")
    assert.equal(#report.CONDITIONS + 2, svgs)
    assert.matches('id="scatter%-sim%-large%-itrained"[^>]*>', html)
    assert.matches('data%-points="50" id="target%-sim%-large"', html)
    assert.matches('data%-points="2" id="effects"', html)
  end)

  it("says the results come from the simulated subject", function()
    assert.matches("not results of any language model", html)
  end)

  it("lists invalid reports with their reasons, and what the analysis left out", function()
    assert.matches("<td>instilled</td><td>–</td><td>12</td>", html)
    assert.matches("<td>base</td><td>57</td><td>3</td><td>not_json 2, wrong_keys 1</td>", html)
    assert.matches("<li>sim%-large: instilled: context &#39;x&#39; has no valid reports</li>", html)
  end)

  it("shows the settings as JSON", function()
    assert.matches("<pre>{\n  &quot;seed&quot;: 1\n}\n</pre>", html)
  end)
end)

describe("report.markdown", function()
  it("has the headline table", function()
    local md = report.markdown({ summary = summary, simulated = true })
    assert.matches("| Condition | sim%-large | gpt%-4o%-mini", md)
    assert.matches("Training effect %(trained − untrained slope%) | 0%.250 %[0%.150, 0%.350%]", md)
    assert.matches("> These results come from introspect's simulated subject", md)
  end)
end)
