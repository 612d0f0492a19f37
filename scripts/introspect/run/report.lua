-- Reports of a run: report.html (one self-contained file: no scripts, no network; plots as
-- inline SVG) and summary.md, both made from the run's summary (the schema of
-- experiments/analyze-published.lua's summary.json) and the points behind each plot.
local paper = require "introspect.design.paper"
local rundir = require "introspect.run.rundir"
local util = require "introspect.core.util"

local M = {}

-- The study's reference numbers and its conditions in order, with their labels
-- ({key=, label=, short=}): introspect.design.paper.
M.PUBLISHED = paper.published
M.CONDITIONS = paper.conditions

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
  if R.lo and R.hi then s = s .. " [" .. num(R.lo) .. ", " .. num(R.hi) .. "]" end
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

-- scatter(points, opts) -> SVG text. points: list of {x, y}. opts: title, xlabel, ylabel,
-- width, height, fit (boolean: draw the least-squares line), id.
function M.scatter(points, opts)
  opts = util.check_options("report.scatter", opts,
    { title = "string", xlabel = "string", ylabel = "string", width = "number", height = "number",
      fit = "boolean", id = "string" })
  local w, h = opts.width or 340, opts.height or 300
  local left, right, top, bottom = 44, 12, 26, 40
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for _, p in ipairs(points) do
    xmin, xmax = math.min(xmin, p[1]), math.max(xmax, p[1])
    ymin, ymax = math.min(ymin, p[2]), math.max(ymax, p[2])
  end
  if #points == 0 then xmin, xmax, ymin, ymax = -1, 1, -1, 1 end
  if xmax - xmin < 1e-9 then xmin, xmax = xmin - 1, xmax + 1 end
  if ymax - ymin < 1e-9 then ymin, ymax = ymin - 1, ymax + 1 end
  local padx, pady = (xmax - xmin) * 0.05, (ymax - ymin) * 0.05
  xmin, xmax, ymin, ymax = xmin - padx, xmax + padx, ymin - pady, ymax + pady
  local function sx(x) return left + (x - xmin) / (xmax - xmin) * (w - left - right) end
  local function sy(y) return h - bottom - (y - ymin) / (ymax - ymin) * (h - top - bottom) end
  local out = {}
  out[#out + 1] = string.format('<svg xmlns="http://www.w3.org/2000/svg" class="plot" ' ..
    'width="%d" height="%d" viewBox="0 0 %d %d" data-points="%d"%s role="img">', w, h, w, h,
    #points, opts.id and (' id="' .. esc(opts.id) .. '"') or "")
  if opts.title then
    out[#out + 1] = string.format('<text x="%d" y="16" class="title">%s</text>', left, esc(opts.title))
  end
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" class="frame"/>',
    left, top, w - left - right, h - top - bottom)
  if xmin < 0 and xmax > 0 then
    out[#out + 1] = string.format('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="axis"/>',
      sx(0), top, sx(0), h - bottom)
  end
  if ymin < 0 and ymax > 0 then
    out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="axis"/>',
      left, sy(0), w - right, sy(0))
  end
  for _, p in ipairs(points) do
    out[#out + 1] = string.format('<circle cx="%.1f" cy="%.1f" r="2.5" class="pt"/>', sx(p[1]), sy(p[2]))
  end
  if opts.fit and #points >= 2 then
    local n, sxv, syv, sxx, sxy = #points, 0, 0, 0, 0
    for _, p in ipairs(points) do
      sxv, syv = sxv + p[1], syv + p[2]
      sxx, sxy = sxx + p[1] * p[1], sxy + p[1] * p[2]
    end
    local den = n * sxx - sxv * sxv
    if math.abs(den) > 1e-12 then
      local b = (n * sxy - sxv * syv) / den
      local a = (syv - b * sxv) / n
      local x1, x2 = xmin + padx, xmax - padx
      out[#out + 1] = string.format('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="fit"/>',
        sx(x1), sy(a + b * x1), sx(x2), sy(a + b * x2))
    end
  end
  out[#out + 1] = string.format('<text x="%d" y="%d" class="label">%s</text>', left, h - 8,
    esc(opts.xlabel or ""))
  out[#out + 1] = string.format('<text x="12" y="%d" class="label" transform="rotate(-90 12 %d)">%s</text>',
    h - bottom, h - bottom, esc(opts.ylabel or ""))
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- intervals(rows, opts) -> SVG text: one horizontal interval per row {label=, est=, lo=, hi=}.
function M.intervals(rows, opts)
  opts = util.check_options("report.intervals", opts, { title = "string", width = "number", id = "string" })
  local w, rowh, left = opts.width or 560, 28, 230
  local h = 40 + rowh * #rows
  local lo, hi = 0, 0
  for _, r in ipairs(rows) do
    lo = math.min(lo, r.lo or r.est or 0)
    hi = math.max(hi, r.hi or r.est or 0)
  end
  if hi - lo < 1e-9 then hi = lo + 1 end
  local pad = (hi - lo) * 0.08
  lo, hi = lo - pad, hi + pad
  local function sx(x) return left + (x - lo) / (hi - lo) * (w - left - 20) end
  local out = {}
  out[#out + 1] = string.format('<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="%d" ' ..
    'height="%d" viewBox="0 0 %d %d" data-points="%d"%s role="img">', w, h, w, h, #rows,
    opts.id and (' id="' .. esc(opts.id) .. '"') or "")
  if opts.title then out[#out + 1] = string.format('<text x="10" y="16" class="title">%s</text>', esc(opts.title)) end
  out[#out + 1] = string.format('<line x1="%.1f" y1="24" x2="%.1f" y2="%d" class="axis"/>', sx(0), sx(0), h - 6)
  for i, r in ipairs(rows) do
    local y = 24 + rowh * (i - 0.5)
    out[#out + 1] = string.format('<text x="10" y="%.1f" class="label">%s</text>', y + 4, esc(r.label))
    if r.lo and r.hi then
      out[#out + 1] = string.format('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ci"/>',
        sx(r.lo), y, sx(r.hi), y)
    end
    if r.est then
      out[#out + 1] = string.format('<circle cx="%.1f" cy="%.1f" r="4" class="pt"/>', sx(r.est), y)
      out[#out + 1] = string.format('<text x="%.1f" y="%.1f" class="value">%s</text>', sx(r.est) + 6,
        y - 6, num(r.est))
    end
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local CSS = [[
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f4f4f4}.banner{background:#fff4d6;border:1px solid #e0b84c;padding:.8em;margin:1em 0}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plot .frame{fill:none;stroke:#999}
.plot .axis{stroke:#ccc;stroke-dasharray:3 3}.plot .pt{fill:#2b6cb0;fill-opacity:.55}
.plot .fit{stroke:#c53030;stroke-width:1.5}.plot .ci{stroke:#2b6cb0;stroke-width:2}
.plot .title{font-size:12px;font-weight:600}.plot .label,.plot .value{font-size:11px;fill:#444}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}
]]

local function headline_rows(summary, published)
  local models = sorted_keys(summary.models)
  local header = { "Condition" }
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
    local row = { c.label .. " — accuracy slope [95% CI]; r, n" }
    for _, m in ipairs(models) do
      local R = (summary.models[m].reports or {})[c.key]
      row[#row + 1] = R and (slope_cell(R) .. "; " .. r_cell(R)) or "–"
    end
    if published then
      local P = published.reports[c.key]
      row[#row + 1] = P and (num(P.slope, 4):gsub("0$", "") .. "; " .. r_cell(P)) or "–"
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
    for _, c in ipairs(r) do out[#out + 1] = "<td>" .. esc(c) .. "</td>" end
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

-- html(data) -> text of report.html.
-- data: summary (required), points = {[model] = {[condition] = {{x, y}...}}} (z mean report,
-- z learned), target_points = {[model] = {{x, y}...}} (z target, z learned), settings (table,
-- shown as JSON), title, simulated (boolean: adds M.SIM_NOTE), published (default M.PUBLISHED;
-- false to omit).
function M.html(data)
  util.check_options("report.html", data, { summary = "table", points = "table", target_points = "table",
    settings = "table", title = "string", simulated = "boolean", published = "any" })
  local published = data.published
  if published == nil then published = M.PUBLISHED end
  local title = data.title or "introspect run report"
  local header, rows, models = headline_rows(data.summary, published or nil)
  local out = {}
  out[#out + 1] = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
  out[#out + 1] = "<title>" .. esc(title) .. "</title><style>" .. CSS .. "</style></head><body>"
  out[#out + 1] = "<h1>" .. esc(title) .. "</h1>"
  if data.simulated then out[#out + 1] = '<p class="banner">' .. esc(M.SIM_NOTE) .. "</p>" end
  if data.summary.backend then
    out[#out + 1] = "<p>Backend: " .. esc(data.summary.backend) .. "</p>"
  end
  out[#out + 1] = "<h2>Headline results</h2>"
  out[#out + 1] = "<p>Accuracy is the slope of z(learned weight) on z(mean reported weight) over " ..
    "context × attribute rows, with its 95% interval; Pearson r and the number of rows beside it.</p>"
  out[#out + 1] = html_table(header, rows)

  out[#out + 1] = "<h2>Reported vs learned weights</h2>"
  for _, m in ipairs(models) do
    out[#out + 1] = "<h3>" .. esc(m) .. '</h3><div class="plots">'
    local per = (data.points or {})[m] or {}
    for _, c in ipairs(M.CONDITIONS) do
      if per[c.key] then
        out[#out + 1] = M.scatter(per[c.key], { title = c.short, xlabel = "z(mean report)",
          ylabel = "z(learned)", fit = true, id = "scatter-" .. m .. "-" .. c.key })
      end
    end
    out[#out + 1] = "</div>"
  end

  out[#out + 1] = '<h2>Learned vs target weights</h2><div class="plots">'
  for _, m in ipairs(models) do
    local pts = (data.target_points or {})[m]
    if pts then
      out[#out + 1] = M.scatter(pts, { title = m, xlabel = "z(target)", ylabel = "z(learned)", fit = true,
        id = "target-" .. m })
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
  out[#out + 1] = M.intervals(effects, { title = "Accuracy slope: trained − untrained (95% interval)",
    id = "effects" })

  out[#out + 1] = "<h2>Invalid reports</h2>"
  local inv_rows, left_rows = {}, {}
  for _, m in ipairs(models) do
    local entry = data.summary.models[m]
    local inv = entry.invalid_reports or {}
    for _, cond in ipairs(sorted_keys(inv)) do
      local v = inv[cond]
      if type(v) == "table" then
        local reasons = {}
        for _, r in ipairs(sorted_keys(v.reasons)) do reasons[#reasons + 1] = r .. " " .. v.reasons[r] end
        inv_rows[#inv_rows + 1] = { m, cond, tostring(v.valid or "–"), tostring(v.invalid or "–"),
          table.concat(reasons, ", ") }
      else
        inv_rows[#inv_rows + 1] = { m, cond, "–", tostring(v), "" }
      end
    end
    for _, l in ipairs(entry.left_out or {}) do left_rows[#left_rows + 1] = m .. ": " .. l end
  end
  out[#out + 1] = html_table({ "Model", "Condition", "Valid", "Invalid", "Reasons" }, inv_rows)
  if #left_rows > 0 then
    out[#out + 1] = "<h2>Left out of the analysis</h2><ul>"
    for _, l in ipairs(left_rows) do out[#out + 1] = "<li>" .. esc(l) .. "</li>" end
    out[#out + 1] = "</ul>"
  end
  if data.settings then
    out[#out + 1] = "<h2>Settings</h2><pre>" .. esc(rundir.json(data.settings)) .. "</pre>"
  end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

-- markdown(data) -> text of summary.md (the headline table and the training effects).
function M.markdown(data)
  local published = data.published
  if published == nil then published = M.PUBLISHED end
  local header, rows = headline_rows(data.summary, published or nil)
  local out = { "# " .. (data.title or "introspect run summary"), "" }
  if data.simulated then out[#out + 1] = "> " .. M.SIM_NOTE; out[#out + 1] = "" end
  if data.summary.backend then out[#out + 1] = "Backend: " .. data.summary.backend; out[#out + 1] = "" end
  out[#out + 1] = md_table(header, rows)
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

return M
