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

describe("plot.scatter (the one SVG module report.html draws with)", function()
  local plot = require "introspect.run.plot"
  it("draws one circle per point and says how many", function()
    local svg = plot.scatter(points(37, 1), { title = "t<1>", fit = true })
    local _, circles = svg:gsub("<circle ", "")
    assert.equal(37, circles)
    assert.matches('data%-points="37"', svg)
    assert.matches("t&lt;1&gt;", svg)
    assert.matches('class="fit"', svg)
  end)

  it("has tick values on both axes, its note above the panel and a reference line", function()
    local svg = plot.scatter(points(40, 2), { fit = true, note = "slope 0.5 [0.4, 0.6], r 0.5, n 40",
      reference = { slope = 0.75, label = "published 0.750" } })
    local ticks = {}
    for x, y, text in svg:gmatch('<text x="([%d.]+)" y="([%d.]+)" text%-anchor="[%a]+" class="tick">([^<]*)</text>') do
      ticks[#ticks + 1] = { tonumber(x), tonumber(y), text }
    end
    assert.is_true(#ticks >= 6, svg)
    assert.matches('class="note">slope 0.5 %[0.4, 0.6%], r 0.5, n 40</text>', svg)
    assert.matches('class="note">— this run   %- %- published 0.750</text>', svg)
    assert.matches('class="ref"', svg)
    -- the notes sit above the frame (never over the points)
    local frame_top = tonumber(svg:match('<rect x="%d+" y="(%d+)"[^>]*class="frame"'))
    for y in svg:gmatch('y="(%d+)" class="note"') do assert.is_true(tonumber(y) < frame_top) end
  end)

  it("copes with no points and with constant data", function()
    assert.matches('data%-points="0"', plot.scatter({}, {}))
    local svg = plot.scatter({ { 1, 1 }, { 1, 1 } }, { fit = true })
    assert.is_nil(svg:find("nan", 1, true))
    assert.is_nil(svg:find("inf", 1, true))
  end)

  it("rejects unknown options by name", function()
    local ok, err = pcall(plot.scatter, {}, { colour = "red" })
    assert.is_false(ok)
    assert.matches("plot.scatter: unknown option 'colour'", err)
  end)

  it("picks round tick values", function()
    assert.same({ -2, 0, 2 }, plot.ticks(-2.3, 2.2, 4))
    assert.same({ -2, -1, 0, 1, 2 }, plot.ticks(-2.3, 2.2, 6))
    assert.same({ 0, 0.2, 0.4, 0.6 }, plot.ticks(-0.05, 0.65, 4))
  end)

  it("draws intervals on an axis with ticks, its meaning and the zero line", function()
    local svg = plot.intervals({ { label = "a", est = 0.2, lo = 0.1, hi = 0.3 } },
      { xlabel = "difference", zero_label = "no effect" })
    assert.matches('class="label">difference</text>', svg)
    assert.matches(">no effect</text>", svg)
    assert.is_true(select(2, svg:gsub('class="tick"', "")) >= 3)
  end)
end)

describe("report.html", function()
  local pts = { ["sim-large"] = {} }
  for i, c in ipairs(report.CONDITIONS) do pts["sim-large"][c.key] = points(20 + i, i) end
  local html = report.html({ summary = summary, points = pts, target_points = { ["sim-large"] = points(50, 9) },
    settings = { seed = 1, experiment = "experiments/paper.lua", curricula = { "first_50", "last_50" } },
    simulated = true, title = "Run <x>", docs_dir = "/docs",
    subject = { ["sim-large"] = { malformed = 0.08, access = 0.31 } }, subject_fields = { access = "access (0..1)" } })

  it("is one self-contained page: no scripts, no external resources", function()
    assert.matches("^<!DOCTYPE html>", html)
    assert.is_nil(html:find("<script", 1, true))
    assert.is_nil(html:find("src=", 1, true))
    assert.is_nil(html:find("<link", 1, true))
    -- the only links are to the docs, which nothing loads
    for href in html:gmatch('href="([^"]*)"') do assert.matches("^file:///docs/simulated%-subject%.md$", href) end
    assert.matches("Run &lt;x&gt;", html)
  end)

  it("has the headline numbers beside the published ones", function()
    assert.matches("0%.450 %[0%.350, 0%.550%]<br><span class=\"note\">r 0%.460, n 500", html)
    assert.matches("gpt%-4o%-mini%-2024%-07%-18 %(published%)", html)
    assert.matches("0%.504 %[0%.419, 0%.590%]<br><span class=\"note\">r 0%.506, n 395, 79 contexts", html)
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
    assert.matches("<td>base</td><td>57</td><td>3</td><td>5%%</td><td>not_json 2, wrong_keys 1</td>", html)
    assert.matches("<b>not_json</b>: the reply was not JSON", html)
    assert.matches("sim%-large replies malformed reports at a rate of 0%.08 before report training", html)
    assert.matches("<li>sim%-large: instilled: context &#39;x&#39; has no valid reports</li>", html)
  end)

  it("shows the settings as a table of keys and values (no JSON, no escaped slashes)", function()
    assert.matches("<tr><td>experiment</td><td>experiments/paper.lua</td></tr>", html, 1, true)
    assert.matches("<tr><td>curricula</td><td>first_50, last_50</td></tr>", html, 1, true)
    assert.is_nil(html:find("\\/", 1, true))
    assert.is_nil(html:find("<pre>", 1, true))
  end)

  it("links the simulated subject's docs and shows its profiles' parameters", function()
    assert.matches('<a href="file:///docs/simulated%-subject%.md">docs/simulated%-subject%.md</a>', html)
    assert.matches("<td>access</td><td>0%.31</td><td>access %(0%.%.1%)</td>", html)
  end)

  it("puts the published slope on each panel and the slope and r of the run", function()
    assert.matches("published 0%.504", html)
    assert.matches("slope 0%.450 %[0%.350, 0%.550%], r 0%.460, n 500", html)
  end)

  it("orders the columns as the run's models", function()
    local two = { backend = "sim", models = { ["sim-large"] = summary.models["sim-large"],
      ["sim-small"] = summary.models["sim-large"] } }
    local h = report.html({ summary = two, models = { "sim-small", "sim-large" }, published = false })
    assert.is_true(h:find("<th>sim-small</th>", 1, true) < h:find("<th>sim-large</th>", 1, true))
  end)
end)

describe("report.markdown", function()
  it("has the headline table", function()
    local md = report.markdown({ summary = summary, simulated = true })
    assert.matches("| Condition: accuracy slope %[95%% CI%]; r, n | sim%-large | gpt%-4o%-mini", md)
    assert.matches("Training effect %(trained − untrained slope%) | 0%.250 %[0%.150, 0%.350%]", md)
    assert.matches("> These results come from introspect's simulated subject", md)
  end)
end)

describe("report.text", function()
  it("is the headline table for the terminal, with the published numbers and their intervals", function()
    local text = report.text({ summary = summary })
    assert.matches("accuracy slope %[95%% CI%]%s+sim%-large%s+published", text)
    assert.matches("Instilled%s+0%.450 %[0%.350, 0%.550%]%s+0%.504 %[0%.419, 0%.590%]", text)
    assert.matches("Training effect%s+0%.250 %[0%.150, 0%.350%]", text)
  end)
end)
