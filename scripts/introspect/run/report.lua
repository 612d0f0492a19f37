-- Reports of a run: report.html (one self-contained file: no scripts, no network; plots as
-- inline SVG) and summary.md, both made from the run's summary (the schema of
-- experiments/analyze-published.lua's summary.json) and the points behind each plot.
local paper = require "introspect.design.paper"
local plot = require "introspect.run.plot"
local util = require "introspect.core.util"

local M = {}

-- The study's reference numbers and its conditions in order, with their labels
-- ({key=, label=, short=}): introspect.design.paper.
M.PUBLISHED = paper.published
M.CONDITIONS = paper.conditions

-- published_interval(P) -> lo, hi: an approximate 95% interval of a published OLS slope from its
-- r and n (the slope's t statistic equals r's: se = |slope| sqrt(1 - r^2) / (|r| sqrt(n - 2)),
-- with the t quantile of n - 2 degrees of freedom by its Cornish-Fisher expansion).
function M.published_interval(P)
  if not (P and P.slope and P.r and P.n and P.n > 3 and P.r ~= 0) then return nil end
  local df, z = P.n - 2, 1.959963985
  local t = z + (z ^ 3 + z) / (4 * df) + (5 * z ^ 5 + 16 * z ^ 3 + 3 * z) / (96 * df ^ 2)
  local se = math.abs(P.slope) * math.sqrt(1 - P.r ^ 2) / (math.abs(P.r) * math.sqrt(df))
  return P.slope - t * se, P.slope + t * se
end

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&#39;" }))
end
M.escape = esc

local function num(x, digits)
  if type(x) ~= "number" or x ~= x then return "–" end
  return string.format("%." .. (digits or 3) .. "f", x)
end

local function slope_cell(R)
  if not R then return "–" end
  local s = num(R.slope)
  local lo, hi = R.lo, R.hi
  if not lo and R.published then lo, hi = M.published_interval(R) end
  if lo and hi then s = s .. " [" .. num(lo) .. ", " .. num(hi) .. "]" end
  return s
end

local function r_cell(R)
  if not R then return "–" end
  local s = "r " .. num(R.r)
  if R.n then s = s .. ", n " .. R.n end
  if R.contexts then s = s .. ", " .. R.contexts .. " contexts" end
  return s
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local CSS = [[
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
.wide{overflow-x:auto}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
td{overflow-wrap:break-word}th{background:#f4f4f4}
.num{font-variant-numeric:tabular-nums;white-space:nowrap}.num .note{white-space:normal;font-size:.85em}
.banner{background:#fff4d6;border:1px solid #e0b84c;padding:.8em;margin:1em 0}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{max-width:100%;height:auto}
svg.plot{max-width:100%;height:auto}.note{color:#555;font-size:.92em}
.settings{width:100%;table-layout:fixed}
.settings td{font-family:monospace;font-size:12px;overflow-wrap:anywhere}
.settings td:first-child{width:32%}details summary{cursor:pointer;color:#2b6cb0}
]] .. plot.STYLE .. "\n"

-- model_order(summary, order) -> the summary's models: those of `order` first (as given),
-- then the rest sorted.
local function model_order(summary, order)
  local out, seen = {}, {}
  for _, m in ipairs(order or {}) do
    if summary.models[m] and not seen[m] then out[#out + 1], seen[m] = m, true end
  end
  for _, m in ipairs(sorted_keys(summary.models)) do
    if not seen[m] then out[#out + 1] = m end
  end
  return out
end
M.model_order = model_order

local function headline_rows(summary, published, order)
  local models = model_order(summary, order)
  local header = { "Condition: accuracy slope [95% CI]; r, n" }
  for _, m in ipairs(models) do header[#header + 1] = m end
  if published then header[#header + 1] = published.model end
  local rows = {}
  local lvt = { "Learned vs target weights (Pearson r)" }
  for _, m in ipairs(models) do
    local L = summary.models[m].learned_vs_target
    lvt[#lvt + 1] = L and ("r " .. num(L.r) .. ", n " .. tostring(L.n)) or "–"
  end
  if published then
    local P = published.learned_vs_target
    lvt[#lvt + 1] = "r " .. num(P.r) .. ", n " .. P.n
  end
  rows[#rows + 1] = lvt
  for _, c in ipairs(M.CONDITIONS) do
    local row = { c.label }
    for _, m in ipairs(models) do
      local R = (summary.models[m].reports or {})[c.key]
      row[#row + 1] = R and (slope_cell(R) .. "; " .. r_cell(R)) or "–"
    end
    if published then
      local P = published.reports[c.key]
      local copy = P and setmetatable({ published = true }, { __index = P })
      row[#row + 1] = P and (slope_cell(copy) .. "; " .. r_cell(P)) or "–"
    end
    rows[#rows + 1] = row
  end
  for _, e in ipairs({ { "training_effect", "Training effect (trained − untrained slope)" },
    { "native_training_effect", "Native training effect" } }) do
    local row = { e[2] }
    for _, m in ipairs(models) do
      local D = summary.models[m][e[1]]
      row[#row + 1] = D and (num(D.diff) .. " [" .. num(D.lo) .. ", " .. num(D.hi) .. "]") or "–"
    end
    if published then row[#row + 1] = "–" end
    rows[#rows + 1] = row
  end
  return header, rows, models
end

local function html_table(header, rows)
  local out = { "<table><tr>" }
  for _, h in ipairs(header) do out[#out + 1] = "<th>" .. esc(h) .. "</th>" end
  out[#out + 1] = "</tr>"
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for i, c in ipairs(r) do
      -- "slope [interval]; r .., n .." shows as two lines, the second smaller
      local main, sub = tostring(c):match("^(.-); (.*)$")
      if i > 1 and main then
        out[#out + 1] = '<td class="num">' .. esc(main) .. '<br><span class="note">' .. esc(sub) .. "</span></td>"
      else
        out[#out + 1] = "<td>" .. esc(c) .. "</td>"
      end
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</table>"
  return table.concat(out)
end

local function md_table(header, rows)
  local out = { "| " .. table.concat(header, " | ") .. " |" }
  local sep = {}
  for i = 1, #header do sep[i] = "---" end
  out[#out + 1] = "|" .. table.concat(sep, "|") .. "|"
  for _, r in ipairs(rows) do out[#out + 1] = "| " .. table.concat(r, " | ") .. " |" end
  return table.concat(out, "\n")
end

-- The note that must accompany any result of the simulated subject.
M.SIM_NOTE = "These results come from introspect's simulated subject, a documented statistical " ..
  "model of a fine-tunable chat model (docs/simulated-subject.md). They rehearse the pipeline; " ..
  "they are not results of any language model."

-- What each reason of an invalid report means (introspect.design.replies.REASONS).
M.REASONS = {
  empty = "the reply was empty",
  not_json = "the reply was not JSON",
  not_object = "JSON, but not an object of attribute weights",
  wrong_keys = "an object whose keys were not exactly the attribute names",
  not_number = "a weight that was not a finite number",
  not_ranking = "a ranking that did not list every attribute once",
}

-- flatten(value, prefix, rows): settings as (dotted key, value) rows, lists joined with ", ".
local function flatten(value, prefix, rows)
  if type(value) ~= "table" then
    rows[#rows + 1] = { prefix, tostring(value) }
    return rows
  end
  if #value > 0 or next(value) == nil then
    local simple = true
    for _, v in ipairs(value) do if type(v) == "table" then simple = false end end
    if simple then
      local parts = {}
      for i, v in ipairs(value) do parts[i] = tostring(v) end
      rows[#rows + 1] = { prefix, table.concat(parts, ", ") }
      return rows
    end
  end
  for _, k in ipairs(sorted_keys(value)) do
    flatten(value[k], prefix == "" and tostring(k) or (prefix .. "." .. tostring(k)), rows)
  end
  return rows
end

-- docs_dir() -> the absolute path of this installation's docs/ (source tree), or nil.
function M.docs_dir()
  local ok, host = pcall(require, "introspect.host")
  local candidates = {}
  if ok and type(host) == "table" then
    if host.library_dir then candidates[#candidates + 1] = host.library_dir .. "/../docs" end
    if host.source_dir then candidates[#candidates + 1] = host.source_dir .. "/docs" end
  end
  local init = package.searchpath("introspect", package.path)
  local root = init and init:match("^(.*)/scripts/introspect/init%.lua$")
  if root then candidates[#candidates + 1] = root .. "/docs" end
  for _, dir in ipairs(candidates) do
    if util.file_exists(dir .. "/simulated-subject.md") then
      local prev
      repeat prev, dir = dir, dir:gsub("/[^/]+/%.%./", "/", 1) until dir == prev
      if dir:sub(1, 1) ~= "/" then dir = (os.getenv("PWD") or ".") .. "/" .. dir end
      return dir
    end
  end
  return nil
end

-- Doc link: a file:// link to docs/NAME in docs_dir when given, else the path as text.
local function doc_link(docs_dir, name, text)
  if not docs_dir then return "<code>docs/" .. esc(name) .. "</code>" end
  return '<a href="file://' .. esc(docs_dir .. "/" .. name) .. '">' .. esc(text or ("docs/" .. name)) .. "</a>"
end

-- condition_note(R) -> "slope 0.52 [0.41, 0.63], r 0.51, n 95" for a scatter panel.
local function condition_note(R)
  if not R then return nil end
  return string.format("slope %s [%s, %s], r %s, n %s", num(R.slope), num(R.lo), num(R.hi), num(R.r),
    tostring(R.n or "–"))
end

-- html(data) -> text of report.html.
-- data: summary (required), points = {[model] = {[condition] = {{x, y}...}}} (z mean report,
-- z learned), target_points = {[model] = {{x, y}...}} (z target, z learned), settings (table,
-- shown as a key/value table), title, models (column order; default sorted), simulated (boolean:
-- adds M.SIM_NOTE), subject ({[profile] = parameters}: the simulated subject's profiles, shown
-- with their meaning from `subject_fields`), subject_fields ({field = meaning}), docs_dir (where
-- docs/*.md are, for links), published (default M.PUBLISHED; false to omit).
function M.html(data)
  util.check_options("report.html", data, { summary = "table", points = "table", target_points = "table",
    settings = "table", title = "string", simulated = "boolean", published = "any", models = "table",
    subject = "table", subject_fields = "table", docs_dir = "string" })
  local published = data.published
  if published == nil then published = M.PUBLISHED end
  local title = data.title or "introspect run report"
  local header, rows, models = headline_rows(data.summary, published or nil, data.models)
  local out = {}
  out[#out + 1] = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
  out[#out + 1] = '<meta name="viewport" content="width=device-width, initial-scale=1">'
  out[#out + 1] = "<title>" .. esc(title) .. "</title><style>" .. CSS .. "</style></head><body>"
  out[#out + 1] = "<h1>" .. esc(title) .. "</h1>"
  if data.simulated then
    out[#out + 1] = '<p class="banner">' .. esc(M.SIM_NOTE):gsub("docs/simulated%-subject%.md",
      doc_link(data.docs_dir, "simulated-subject.md"), 1) .. "</p>"
  end
  if data.summary.backend then
    out[#out + 1] = "<p>Backend: " .. esc(data.summary.backend) .. "</p>"
  end
  out[#out + 1] = "<h2>Headline results</h2>"
  out[#out + 1] = "<p>Accuracy is the slope of z(learned weight) on z(mean reported weight) over " ..
    "context × attribute rows, with its 95% interval; Pearson r and the number of rows beside it. " ..
    "Every number has three decimals.</p>"
  out[#out + 1] = '<div class="wide">' .. html_table(header, rows) .. "</div>"
  if published then
    out[#out + 1] = '<p class="note">' .. esc(published.model) .. ": the published numbers (method.md " ..
      "section 5); their 95% intervals are approximate, from the published slope, r and n.</p>"
  end

  out[#out + 1] = "<h2>Reported vs learned weights</h2>"
  out[#out + 1] = '<p class="note">Each point is one context × attribute: the z-scored mean report (x) and ' ..
    "learned weight (y). Red: this run's least-squares line" ..
    (published and "; dashed: the published slope of the same condition." or ".") .. "</p>"
  for _, m in ipairs(models) do
    out[#out + 1] = "<h3>" .. esc(m) .. '</h3><div class="plots">'
    local per = (data.points or {})[m] or {}
    local reports = data.summary.models[m].reports or {}
    for _, c in ipairs(M.CONDITIONS) do
      if per[c.key] then
        local P = published and published.reports[c.key]
        out[#out + 1] = plot.scatter(per[c.key], { title = c.short, xlabel = "z(mean report)",
          ylabel = "z(learned)", fit = true, id = "scatter-" .. m .. "-" .. c.key,
          note = condition_note(reports[c.key]),
          reference = P and { slope = P.slope, label = "published " .. num(P.slope) } or nil })
      end
    end
    out[#out + 1] = "</div>"
  end

  out[#out + 1] = '<h2>Learned vs target weights</h2><div class="plots">'
  for _, m in ipairs(models) do
    local pts = (data.target_points or {})[m]
    if pts then
      local L = data.summary.models[m].learned_vs_target
      out[#out + 1] = plot.scatter(pts, { title = m, xlabel = "z(target)", ylabel = "z(learned)", fit = true,
        id = "target-" .. m, note = L and string.format("r %s, n %s", num(L.r), tostring(L.n)) or nil,
        reference = published and { slope = published.learned_vs_target.r,
          label = "published r " .. num(published.learned_vs_target.r) } or nil })
    end
  end
  out[#out + 1] = "</div>"

  out[#out + 1] = "<h2>Training effects</h2>"
  local effects = {}
  for _, m in ipairs(models) do
    for _, e in ipairs({ { "training_effect", "held-out" }, { "native_training_effect", "native" } }) do
      local D = data.summary.models[m][e[1]]
      if D then effects[#effects + 1] = { label = m .. " " .. e[2], est = D.diff, lo = D.lo, hi = D.hi } end
    end
  end
  out[#out + 1] = plot.intervals(effects, { title = "Accuracy slope: trained − untrained (95% interval)",
    xlabel = "difference in accuracy slope (trained − untrained)", zero_label = "no effect", id = "effects" })

  out[#out + 1] = "<h2>Invalid reports</h2>"
  out[#out + 1] = '<p class="note">A report reply that is not a JSON object of every attribute\'s weight is ' ..
    "invalid: it is kept raw in the run's replies/ and left out of the accuracy.</p>"
  local inv_rows, left_rows, reasons_seen = {}, {}, {}
  for _, m in ipairs(models) do
    local entry = data.summary.models[m]
    local inv = entry.invalid_reports or {}
    for _, cond in ipairs(sorted_keys(inv)) do
      local v = inv[cond]
      if type(v) == "table" then
        local reasons = {}
        for _, r in ipairs(sorted_keys(v.reasons)) do
          reasons[#reasons + 1] = r .. " " .. v.reasons[r]
          reasons_seen[r] = true
        end
        local total = (v.valid or 0) + (v.invalid or 0)
        inv_rows[#inv_rows + 1] = { m, cond, tostring(v.valid or "–"), tostring(v.invalid or "–"),
          total > 0 and string.format("%.0f%%", 100 * (v.invalid or 0) / total) or "–", table.concat(reasons, ", ") }
      else
        inv_rows[#inv_rows + 1] = { m, cond, "–", tostring(v), "–", "" }
      end
    end
    for _, l in ipairs(entry.left_out or {}) do left_rows[#left_rows + 1] = m .. ": " .. l end
  end
  out[#out + 1] = '<div class="wide">' .. html_table({ "Model", "Condition", "Valid", "Invalid", "Share",
    "Reasons" }, inv_rows) .. "</div>"
  local meanings = {}
  for _, r in ipairs(sorted_keys(reasons_seen)) do
    if M.REASONS[r] then meanings[#meanings + 1] = "<b>" .. esc(r) .. "</b>: " .. esc(M.REASONS[r]) end
  end
  if #meanings > 0 then out[#out + 1] = '<p class="note">' .. table.concat(meanings, "; ") .. ".</p>" end
  if data.simulated and data.subject then
    local parts = {}
    for _, name in ipairs(sorted_keys(data.subject)) do
      local p = data.subject[name]
      if type(p) == "table" and p.malformed then
        parts[#parts + 1] = string.format("%s replies malformed reports at a rate of %s before report training",
          name, num(p.malformed, 2))
      end
    end
    if #parts > 0 then
      out[#out + 1] = '<p class="note">On the simulated subject these are by design: ' .. esc(table.concat(parts, "; "))
        .. " (the profile parameter <code>malformed</code>, like a small model's formatting errors; report " ..
        "training lowers it). See " .. doc_link(data.docs_dir, "simulated-subject.md") .. ".</p>"
    end
  end
  if #left_rows > 0 then
    out[#out + 1] = "<h2>Left out of the analysis</h2><ul>"
    for _, l in ipairs(left_rows) do out[#out + 1] = "<li>" .. esc(l) .. "</li>" end
    out[#out + 1] = "</ul>"
  end
  if data.simulated and data.subject then
    local names = {}
    for _, m in ipairs(models) do if data.subject[m] then names[#names + 1] = m end end
    local fields = {}
    for _, n in ipairs(names) do for k in pairs(data.subject[n]) do fields[k] = true end end
    local sheader, srows = { "Parameter" }, {}
    for _, n in ipairs(names) do sheader[#sheader + 1] = n end
    sheader[#sheader + 1] = "Meaning"
    for _, k in ipairs(sorted_keys(fields)) do
      local row = { k }
      for _, n in ipairs(names) do row[#row + 1] = tostring(data.subject[n][k] or "–") end
      row[#row + 1] = (data.subject_fields or {})[k] or ""
      srows[#srows + 1] = row
    end
    out[#out + 1] = "<h2>The simulated subject's profiles</h2>"
    out[#out + 1] = '<p class="note">The parameters of each profile this run used; the model and every ' ..
      "parameter are explained in " .. doc_link(data.docs_dir, "simulated-subject.md") .. ".</p>"
    out[#out + 1] = '<div class="wide">' .. html_table(sheader, srows) .. "</div>"
  end
  if data.settings then
    local flat = flatten(data.settings, "", {})
    out[#out + 1] = string.format('<h2>Settings</h2><details><summary>%d settings of this run (its ' ..
      'manifest.json: options, seeds, versions, fine-tunes)</summary><table class="settings"><tr><th>Setting</th>' ..
      '<th>Value</th></tr>', #flat)
    for _, r in ipairs(flat) do
      out[#out + 1] = "<tr><td>" .. esc(r[1]) .. "</td><td>" .. esc(r[2]) .. "</td></tr>"
    end
    out[#out + 1] = "</table></details>"
  end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

-- markdown(data) -> text of summary.md (the headline table and the training effects).
function M.markdown(data)
  local published = data.published
  if published == nil then published = M.PUBLISHED end
  local header, rows = headline_rows(data.summary, published or nil, data.models)
  local out = { "# " .. (data.title or "introspect run summary"), "" }
  if data.simulated then out[#out + 1] = "> " .. M.SIM_NOTE; out[#out + 1] = "" end
  if data.summary.backend then out[#out + 1] = "Backend: " .. data.summary.backend; out[#out + 1] = "" end
  out[#out + 1] = md_table(header, rows)
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

-- text(data) -> the headline table as aligned plain text for a terminal: one row per condition,
-- a column per model (slope [95% interval]) and the published numbers.
function M.text(data)
  local published = data.published
  if published == nil then published = M.PUBLISHED end
  local _, _, models = headline_rows(data.summary, published or nil, data.models)
  local header = { "accuracy slope [95% CI]" }
  for _, m in ipairs(models) do header[#header + 1] = m end
  if published then header[#header + 1] = "published" end
  local rows = {}
  local lvt = { "learned vs target (r)" }
  for _, m in ipairs(models) do
    local L = data.summary.models[m].learned_vs_target
    lvt[#lvt + 1] = L and num(L.r) or "–"
  end
  if published then lvt[#lvt + 1] = num(published.learned_vs_target.r) end
  rows[1] = lvt
  for _, c in ipairs(M.CONDITIONS) do
    local row = { c.short }
    for _, m in ipairs(models) do row[#row + 1] = slope_cell((data.summary.models[m].reports or {})[c.key]) end
    if published then
      local P = published.reports[c.key]
      row[#row + 1] = P and slope_cell(setmetatable({ published = true }, { __index = P })) or "–"
    end
    rows[#rows + 1] = row
  end
  for _, e in ipairs({ { "training_effect", "Training effect" },
    { "native_training_effect", "Native training effect" } }) do
    local row = { e[2] }
    for _, m in ipairs(models) do
      local D = data.summary.models[m][e[1]]
      row[#row + 1] = D and (num(D.diff) .. " [" .. num(D.lo) .. ", " .. num(D.hi) .. "]") or "–"
    end
    if published then row[#row + 1] = "–" end
    rows[#rows + 1] = row
  end
  return tostring(require("introspect.core.tabular").new(header, rows))
end

return M
