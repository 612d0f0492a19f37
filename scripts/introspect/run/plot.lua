-- Line plots as self-contained SVG text (no scripts, no fonts to fetch), for the example
-- experiments: one line per series, an optional logarithmic x axis and an optional horizontal
-- reference line (a target).
--
--   local plot = require "introspect.run.plot"
--   local svg = plot.lines({ { label = "3 reports", points = { {10, 0.9}, {50, 0.4} } } },
--     { xlabel = "choices per context", ylabel = "interval width", logx = true, hline = 0.5 })
local util = require "introspect.core.util"

local M = {}

-- Colours of the series, in order (cycled).
M.COLOURS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b" }

local function esc(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- tick(v) -> short text of an axis value.
local function tick(v)
  if v == math.floor(v) and math.abs(v) < 1e6 then return string.format("%d", v) end
  return string.format("%.3g", v)
end

-- lines(series, opts) -> SVG text
-- series: list of {label=, points = {{x, y}, ...}} (points with a nil y are skipped).
-- opts: title, xlabel, ylabel, width (560), height (340), logx (boolean: log10 x axis; every x
-- must be positive), hline (number: a dashed reference line, e.g. a target), hline_label, id.
-- Raises on a series without points table or on a non-positive x with logx.
function M.lines(series, opts)
  opts = util.check_options("plot.lines", opts, { title = "string", xlabel = "string", ylabel = "string",
    width = "number", height = "number", logx = "boolean", hline = "number", hline_label = "string",
    id = "string" })
  local w, h = opts.width or 560, opts.height or 340
  local left, right, top, bottom = 56, 150, 28, 44
  local function fx(x)
    if not opts.logx then return x end
    if x <= 0 then error(string.format("plot.lines: x = %s is not positive (logx)", tostring(x)), 3) end
    return math.log(x, 10)
  end
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local xs, seen, count = {}, {}, 0
  for i, s in ipairs(series) do
    if type(s.points) ~= "table" then error(string.format("plot.lines: series %d has no points", i), 2) end
    for _, p in ipairs(s.points) do
      if p[2] ~= nil then
        local x = fx(p[1])
        xmin, xmax = math.min(xmin, x), math.max(xmax, x)
        ymin, ymax = math.min(ymin, p[2]), math.max(ymax, p[2])
        if not seen[p[1]] then seen[p[1]] = true; xs[#xs + 1] = p[1] end
        count = count + 1
      end
    end
  end
  if opts.hline then ymin, ymax = math.min(ymin, opts.hline), math.max(ymax, opts.hline) end
  if count == 0 then xmin, xmax, ymin, ymax = 0, 1, 0, 1 end
  if xmax - xmin < 1e-9 then xmin, xmax = xmin - 1, xmax + 1 end
  if ymax - ymin < 1e-9 then ymin, ymax = ymin - 1, ymax + 1 end
  local pady = (ymax - ymin) * 0.06
  ymin, ymax = math.min(ymin - pady, math.max(0, ymin - pady)), ymax + pady
  local function sx(x) return left + (fx(x) - xmin) / (xmax - xmin) * (w - left - right) end
  local function sy(y) return h - bottom - (y - ymin) / (ymax - ymin) * (h - top - bottom) end
  local out = {}
  out[#out + 1] = string.format('<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="%d" height="%d" '
    .. 'viewBox="0 0 %d %d" data-series="%d" data-points="%d"%s role="img" font-family="sans-serif" '
    .. 'font-size="11">', w, h, w, h, #series, count, opts.id and (' id="' .. esc(opts.id) .. '"') or "")
  if opts.title then
    out[#out + 1] = string.format('<text x="%d" y="17" font-size="13">%s</text>', left, esc(opts.title))
  end
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>',
    left, top, w - left - right, h - top - bottom)
  table.sort(xs)
  for _, x in ipairs(xs) do
    out[#out + 1] = string.format('<text x="%.1f" y="%d" text-anchor="middle">%s</text>', sx(x), h - bottom + 14,
      tick(x))
  end
  for i = 0, 4 do
    local y = ymin + (ymax - ymin) * i / 4
    out[#out + 1] = string.format('<text x="%d" y="%.1f" text-anchor="end">%s</text>', left - 4, sy(y) + 4,
      string.format("%.3g", y))
  end
  if opts.hline then
    out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#444" '
      .. 'stroke-dasharray="5,4" class="hline"/>', left, sy(opts.hline), w - right, sy(opts.hline))
    out[#out + 1] = string.format('<text x="%d" y="%.1f">%s</text>', w - right + 6, sy(opts.hline) + 4,
      esc(opts.hline_label or tick(opts.hline)))
  end
  for i, s in ipairs(series) do
    local colour = M.COLOURS[(i - 1) % #M.COLOURS + 1]
    local pts = {}
    for _, p in ipairs(s.points) do
      if p[2] ~= nil then pts[#pts + 1] = string.format("%.1f,%.1f", sx(p[1]), sy(p[2])) end
    end
    out[#out + 1] = string.format('<polyline class="series" points="%s" fill="none" stroke="%s" '
      .. 'stroke-width="2"/>', table.concat(pts, " "), colour)
    for _, xy in ipairs(pts) do
      local cx, cy = xy:match("^(.-),(.*)$")
      out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="3" fill="%s"/>', cx, cy, colour)
    end
    out[#out + 1] = string.format('<text x="%d" y="%d" fill="%s">%s</text>', w - right + 6,
      top + 14 + 16 * (i - 1), colour, esc(s.label or ("series " .. i)))
  end
  out[#out + 1] = string.format('<text x="%d" y="%d">%s</text>', left, h - 8, esc(opts.xlabel or ""))
  out[#out + 1] = string.format('<text x="14" y="%d" transform="rotate(-90 14 %d)">%s</text>',
    h - bottom, h - bottom, esc(opts.ylabel or ""))
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

-- The look of introspect.run.report's plot classes, for an SVG shown on its own.
M.REPORT_STYLE = ".frame{fill:none;stroke:#999}.axis{stroke:#ccc;stroke-dasharray:3 3}"
  .. ".pt{fill:#2b6cb0;fill-opacity:.55}.fit{stroke:#c53030;stroke-width:1.5}.ci{stroke:#2b6cb0;stroke-width:2}"
  .. "text{font-family:sans-serif}.title{font-size:12px;font-weight:600}.label,.value{font-size:11px;fill:#444}"

-- standalone(svg) -> svg with a <style> element after the opening tag, so that a plot of
-- introspect.run.report (report.scatter, report.intervals: styled by report.html's stylesheet)
-- looks the same opened as a file. Raises if svg does not start with an <svg> element.
function M.standalone(svg)
  local open_tag, rest = svg:match("^(<svg[^>]*>)(.*)$")
  if not open_tag then error("plot.standalone: not an SVG document", 2) end
  return open_tag .. "\n<style>" .. M.REPORT_STYLE .. "</style>" .. rest .. (rest:sub(-1) == "\n" and "" or "\n")
end

return M
