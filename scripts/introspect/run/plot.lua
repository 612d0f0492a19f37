-- The one SVG module: self-contained plots (no scripts, no fonts to fetch) for report.html and
-- the example experiments. Every plot has a frame, axes with tick values and labels, and says
-- how many points it drew (data-points). Styles are classes (M.STYLE), so report.html styles all
-- plots with one stylesheet and plot.standalone gives a file of its own the same look.
--
--   local plot = require "introspect.run.plot"
--   plot.lines({ { label = "3 reports", points = { {10, 0.9}, {50, 0.4} } } },
--     { xlabel = "choices per context", ylabel = "interval width", logx = true, hline = 0.5 })
--   plot.scatter(points, { xlabel = "z(mean report)", ylabel = "z(learned)", fit = true,
--     note = "slope 0.52 [0.41, 0.63], r 0.51", reference = { slope = 0.50, label = "published" } })
--   plot.intervals({ { label = "held-out", est = 0.2, lo = 0.1, hi = 0.3 } }, { xlabel = "difference" })
local util = require "introspect.core.util"

local M = {}

-- Colours of line series, in order (cycled).
M.COLOURS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b" }

-- The look of every plot's classes (report.html includes it; plot.standalone embeds it).
M.STYLE = ".plot .frame{fill:none;stroke:#999}.plot .axis{stroke:#bbb;stroke-dasharray:3 3}"
  .. ".plot .grid{stroke:#eee}.plot .pt{fill:#2b6cb0;fill-opacity:.55}.plot .fit{stroke:#c53030;stroke-width:1.5}"
  .. ".plot .ref{stroke:#555;stroke-width:1.2;stroke-dasharray:6 4}.plot .ci{stroke:#2b6cb0;stroke-width:2}"
  .. ".plot .refpt{fill:none;stroke:#555;stroke-width:1.5}"
  .. ".plot text{font-family:sans-serif}.plot .title{font-size:12px;font-weight:600}"
  .. ".plot .label,.plot .value,.plot .tick,.plot .note{font-size:11px;fill:#444}.plot .tick{fill:#666}"

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
    ["'"] = "&#39;" }))
end
M.escape = esc

-- ticks(lo, hi [, n]) -> about n (5) round values covering [lo, hi] (steps of 1, 2 or 5 x 10^k).
function M.ticks(lo, hi, n)
  n = n or 5
  if hi <= lo then return { lo } end
  local raw = (hi - lo) / n
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if raw <= m * mag * 1.0000001 then step = m * mag; break end
  end
  local out = {}
  for k = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) do
    local v = tonumber(string.format("%.12g", k * step))
    out[#out + 1] = v == 0 and 0 or v
  end
  return out
end

-- tick_text(v) -> short text of an axis value ("0.5", "100", "1e+06").
function M.tick_text(v)
  if v == math.floor(v) and math.abs(v) < 1e6 then return string.format("%d", v) end
  return (string.format("%.3g", v))
end

-- Pads a range by a fraction on both sides (and widens an empty one).
local function padded(lo, hi, frac)
  if hi - lo < 1e-9 then lo, hi = lo - 1, hi + 1 end
  local pad = (hi - lo) * frac
  return lo - pad, hi + pad
end

-- The frame of a plot: svg header, title, frame rectangle, tick values and axis labels.
-- p = {w=, h=, left=, right=, top=, bottom=, xmin=, xmax=, ymin=, ymax=, sx=, sy=, id=, title=,
-- xlabel=, ylabel=, xticks=, yticks=, xtick_text=, attrs=}; returns the list of SVG lines.
local function frame(p)
  local out = {}
  out[#out + 1] = string.format('<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="%d" height="%d" '
    .. 'viewBox="0 0 %d %d"%s%s role="img" font-family="sans-serif" font-size="11">', p.w, p.h, p.w, p.h,
    p.attrs or "", p.id and (' id="' .. esc(p.id) .. '"') or "")
  if p.title then out[#out + 1] = string.format('<text x="%d" y="16" class="title">%s</text>', p.left, esc(p.title)) end
  for _, x in ipairs(p.xticks or {}) do
    local X = p.sx(x)
    out[#out + 1] = string.format('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="grid"/>', X, p.top, X,
      p.h - p.bottom)
    out[#out + 1] = string.format('<text x="%.1f" y="%d" text-anchor="middle" class="tick">%s</text>', X,
      p.h - p.bottom + 13, esc((p.xtick_text or M.tick_text)(x)))
  end
  for _, y in ipairs(p.yticks or {}) do
    local Y = p.sy(y)
    out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>', p.left, Y,
      p.w - p.right, Y)
    out[#out + 1] = string.format('<text x="%d" y="%.1f" text-anchor="end" class="tick">%s</text>', p.left - 4,
      Y + 4, esc(M.tick_text(y)))
  end
  out[#out + 1] = string.format('<rect x="%d" y="%d" width="%d" height="%d" class="frame"/>',
    p.left, p.top, p.w - p.left - p.right, p.h - p.top - p.bottom)
  if p.xlabel then
    out[#out + 1] = string.format('<text x="%.1f" y="%d" text-anchor="middle" class="label">%s</text>',
      (p.left + p.w - p.right) / 2, p.h - 6, esc(p.xlabel))
  end
  if p.ylabel then
    local cy = (p.top + p.h - p.bottom) / 2
    out[#out + 1] = string.format('<text x="12" y="%.1f" text-anchor="middle" class="label" '
      .. 'transform="rotate(-90 12 %.1f)">%s</text>', cy, cy, esc(p.ylabel))
  end
  return out
end

-- least_squares(points) -> intercept, slope | nil (fewer than 2 points or no spread in x)
function M.least_squares(points)
  local n, sxv, syv, sxx, sxy = #points, 0, 0, 0, 0
  if n < 2 then return nil end
  for _, p in ipairs(points) do
    sxv, syv = sxv + p[1], syv + p[2]
    sxx, sxy = sxx + p[1] * p[1], sxy + p[1] * p[2]
  end
  local den = n * sxx - sxv * sxv
  if math.abs(den) <= 1e-12 then return nil end
  local b = (n * sxy - sxv * syv) / den
  return (syv - b * sxv) / n, b
end

-- scatter(points, opts) -> SVG text. points: list of {x, y}.
-- opts: title, xlabel, ylabel, width (340), height (300), id, fit (draw the least-squares line),
-- note (text drawn inside the panel, e.g. the slope and r), reference ({slope=, intercept=,
-- label=}: a dashed reference line, e.g. the published slope). Ticks on both axes.
function M.scatter(points, opts)
  opts = util.check_options("plot.scatter", opts,
    { title = "string", xlabel = "string", ylabel = "string", width = "number", height = "number",
      fit = "boolean", id = "string", note = "string", reference = "table" })
  local w, h = opts.width or 340, opts.height or 310
  local ref = opts.reference
  local lines = {}
  if opts.note then lines[#lines + 1] = opts.note end
  if ref and ref.label then lines[#lines + 1] = "— this run   - - " .. ref.label
  elseif opts.fit then lines[#lines + 1] = "— least squares" end
  local left, right, top, bottom = 40, 12, 24 + 13 * #lines, 44
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for _, p in ipairs(points) do
    xmin, xmax = math.min(xmin, p[1]), math.max(xmax, p[1])
    ymin, ymax = math.min(ymin, p[2]), math.max(ymax, p[2])
  end
  if #points == 0 then xmin, xmax, ymin, ymax = -1, 1, -1, 1 end
  xmin, xmax = padded(xmin, xmax, 0.05)
  ymin, ymax = padded(ymin, ymax, 0.05)
  local function sx(x) return left + (x - xmin) / (xmax - xmin) * (w - left - right) end
  local function sy(y) return h - bottom - (y - ymin) / (ymax - ymin) * (h - top - bottom) end
  local out = frame({ w = w, h = h, left = left, right = right, top = top, bottom = bottom, sx = sx, sy = sy,
    id = opts.id, title = opts.title, xlabel = opts.xlabel, ylabel = opts.ylabel, xticks = M.ticks(xmin, xmax, 4),
    yticks = M.ticks(ymin, ymax, 4), attrs = string.format(' data-points="%d"', #points) })
  if xmin < 0 and xmax > 0 then
    out[#out + 1] = string.format('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="axis"/>', sx(0), top, sx(0),
      h - bottom)
  end
  if ymin < 0 and ymax > 0 then
    out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="axis"/>', left, sy(0),
      w - right, sy(0))
  end
  for _, p in ipairs(points) do
    out[#out + 1] = string.format('<circle cx="%.1f" cy="%.1f" r="2.5" class="pt"/>', sx(p[1]), sy(p[2]))
  end
  -- a line a + b x clipped to the panel
  local function segment(a, b, class)
    local x1, x2 = xmin, xmax
    if math.abs(b) > 1e-12 then
      local ya, yb = (ymin - a) / b, (ymax - a) / b
      x1, x2 = math.max(x1, math.min(ya, yb)), math.min(x2, math.max(ya, yb))
    end
    if x2 > x1 then
      out[#out + 1] = string.format('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>', sx(x1),
        sy(a + b * x1), sx(x2), sy(a + b * x2), class)
    end
  end
  if ref and type(ref.slope) == "number" then segment(ref.intercept or 0, ref.slope, "ref") end
  if opts.fit then
    local a, b = M.least_squares(points)
    if a then segment(a, b, "fit") end
  end
  -- the notes sit between the title and the panel, never over the points
  for i, l in ipairs(lines) do
    out[#out + 1] = string.format('<text x="%d" y="%d" class="note">%s</text>', left, 16 + 13 * i, esc(l))
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- intervals(rows, opts) -> SVG text: one horizontal interval per row {label=, est=, lo=, hi=,
-- ref=} (ref: a reference value drawn as an open circle, e.g. a published number).
-- opts: title, xlabel (the axis's meaning), width (560), id, zero_label (text at the zero line).
function M.intervals(rows, opts)
  opts = util.check_options("plot.intervals", opts, { title = "string", width = "number", id = "string",
    xlabel = "string", zero_label = "string" })
  local w, rowh, left, right = opts.width or 560, 28, 190, 24
  local top = (opts.title and 22 or 6) + (opts.zero_label and 14 or 0)
  local h = top + rowh * #rows + 44
  local lo, hi = 0, 0
  for _, r in ipairs(rows) do
    for _, v in ipairs({ r.lo or r.est, r.hi or r.est, r.ref }) do
      if type(v) == "number" then lo, hi = math.min(lo, v), math.max(hi, v) end
    end
  end
  lo, hi = padded(lo, hi, 0.08)
  local function sx(x) return left + (x - lo) / (hi - lo) * (w - left - right) end
  local bottom = 44
  local out = frame({ w = w, h = h, left = left, right = right, top = top, bottom = bottom, sx = sx,
    sy = function(y) return y end, id = opts.id, title = opts.title, xlabel = opts.xlabel,
    xticks = M.ticks(lo, hi, 6), attrs = string.format(' data-points="%d"', #rows) })
  out[#out + 1] = string.format('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="axis"/>', sx(0), top, sx(0),
    h - bottom)
  if opts.zero_label then
    out[#out + 1] = string.format('<text x="%.1f" y="%d" text-anchor="middle" class="note">%s</text>', sx(0),
      top - 4, esc(opts.zero_label))
  end
  for i, r in ipairs(rows) do
    local y = top + rowh * (i - 0.5)
    out[#out + 1] = string.format('<text x="%d" y="%.1f" text-anchor="end" class="label">%s</text>', left - 8, y + 4,
      esc(r.label))
    if r.lo and r.hi then
      out[#out + 1] = string.format('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ci"/>', sx(r.lo), y,
        sx(r.hi), y)
    end
    if r.ref then
      out[#out + 1] = string.format('<circle cx="%.1f" cy="%.1f" r="4" class="refpt"/>', sx(r.ref), y)
    end
    if r.est then
      out[#out + 1] = string.format('<circle cx="%.1f" cy="%.1f" r="4" class="pt"/>', sx(r.est), y)
      out[#out + 1] = string.format('<text x="%.1f" y="%.1f" text-anchor="middle" class="value">%s</text>',
        sx(r.est), y - 7, string.format("%.3f", r.est))
    end
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- lines(series, opts) -> SVG text
-- series: list of {label=, points = {{x, y}, ...}} (points with a nil y are skipped).
-- opts: title, xlabel, ylabel, width (560), height (340), logx (boolean: log10 x axis; every x
-- must be positive), hline (number: a dashed reference line, e.g. a target), hline_label, id.
-- x ticks at the data's x values, y ticks at round values. Raises on a series without points
-- table or on a non-positive x with logx.
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
  table.sort(xs)
  local out = frame({ w = w, h = h, left = left, right = right, top = top, bottom = bottom, sx = sx, sy = sy,
    id = opts.id, title = opts.title, xlabel = opts.xlabel, ylabel = opts.ylabel, xticks = xs,
    yticks = M.ticks(ymin, ymax, 4), attrs = string.format(' data-series="%d" data-points="%d"', #series, count) })
  out[1] = out[1]:gsub(">$", "><style>" .. M.STYLE .. "</style>", 1)
  if opts.hline then
    out[#out + 1] = string.format('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#444" '
      .. 'stroke-dasharray="5,4" class="hline"/>', left, sy(opts.hline), w - right, sy(opts.hline))
    out[#out + 1] = string.format('<text x="%d" y="%.1f">%s</text>', w - right + 6, sy(opts.hline) + 4,
      esc(opts.hline_label or M.tick_text(opts.hline)))
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
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

-- standalone(svg) -> svg with a <style> element (M.STYLE) after the opening tag, so that a plot
-- styled by report.html's stylesheet (plot.scatter, plot.intervals) looks the same opened as a
-- file. Raises if svg does not start with an <svg> element.
function M.standalone(svg)
  local open_tag, rest = svg:match("^(<svg[^>]*>)(.*)$")
  if not open_tag then error("plot.standalone: not an SVG document", 2) end
  return open_tag .. "\n<style>" .. M.STYLE .. "</style>" .. rest .. (rest:sub(-1) == "\n" and "" or "\n")
end

return M
