-- Cluster bootstrap with string (or any) ids and one, crossed or nested cluster levels.
-- Rows sharing a cluster are resampled together; the statistic is recomputed on the weighted
-- rows of each bootstrap sample. See docs/statistics.md ("Cluster bootstrap").
local stats = require "introspect.stats"
local util = require "introspect.core.util"

local M = {}

-- index(ids, where) -> codes, levels: 1-based codes in order of first appearance.
local function index(ids, n, where)
  if type(ids) ~= "table" or #ids ~= n then
    error(string.format("%s: %s needs %d cluster ids, got %s", "bootstrap.clusters", where, n,
      type(ids) == "table" and #ids or type(ids)), 3)
  end
  local codes, seen, levels = {}, {}, 0
  for i = 1, n do
    local id = ids[i]
    if id == nil or id ~= id then
      error(string.format("bootstrap.clusters: %s[%d] is not an id", where, i), 3)
    end
    local c = seen[id]
    if not c then levels = levels + 1; c = levels; seen[id] = c end
    codes[i] = c
  end
  return codes, levels
end

-- Per-cell sufficient statistics: cells of rows that always get the same bootstrap weight.
local function cells_of(x, y, key)
  local cell, byk = {}, {}
  for i = 1, #y do
    local k = key(i)
    local c = byk[k]
    if not c then
      c = { i = i, n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0 }
      byk[k] = c
      cell[#cell + 1] = c
    end
    local xi, yi = x and x[i] or 0, y[i]
    c.n, c.sx, c.sy = c.n + 1, c.sx + xi, c.sy + yi
    c.sxx, c.syy, c.sxy = c.sxx + xi * xi, c.syy + yi * yi, c.sxy + xi * yi
  end
  return cell
end

-- statistic of weighted cells: "slope" of y on x, Pearson "r", "mean" of y.
local function from_sums(kind, cells, weight)
  local n, sx, sy, sxx, syy, sxy = 0, 0, 0, 0, 0, 0
  for _, c in ipairs(cells) do
    local w = weight(c)
    if w > 0 then
      n, sx, sy = n + w * c.n, sx + w * c.sx, sy + w * c.sy
      sxx, syy, sxy = sxx + w * c.sxx, syy + w * c.syy, sxy + w * c.sxy
    end
  end
  if n == 0 then return 0 / 0 end
  if kind == "mean" then return sy / n end
  local vxx, vyy, vxy = sxx - sx * sx / n, syy - sy * sy / n, sxy - sx * sy / n
  if vxx <= 1e-12 * math.max(sxx, 1e-300) then return 0 / 0 end
  if kind == "slope" then return vxy / vxx end
  if vyy <= 1e-12 * math.max(syy, 1e-300) then return 0 / 0 end
  return vxy / math.sqrt(vxx * vyy)
end

-- clusters(x, y, clusters [, opts]) -> {estimate, se, lo, hi, reps, clusters, design, level}
-- | nil, err. x, y: arrays of numbers (x may be nil for statistic "mean"). clusters: an
-- array of ids (strings or numbers; one level), {crossed = {ids1, ids2}} (both factors
-- resampled independently; a row's weight is the product of its two counts), or
-- {nested = {outer, inner}} (outer clusters resampled, then within each drawn outer cluster
-- its inner clusters; inner ids are read within their outer cluster). opts: reps (2000),
-- level (0.95), seed (1), statistic "slope" (of y on x; default), "r", "mean" (of y), or a
-- function(w) -> number given each row's weight (0, 1, 2, ...). Percentile interval.
function M.clusters(x, y, clusters, opts)
  opts = util.check_options("bootstrap.clusters", opts, { reps = "integer", level = "number",
    seed = "integer", statistic = "any" })
  local reps, level, kind = opts.reps or 2000, opts.level or 0.95, opts.statistic or "slope"
  if reps < 10 then error("bootstrap.clusters: option 'reps' must be >= 10", 2) end
  if not (level > 0 and level < 1) then error("bootstrap.clusters: option 'level' must be in (0, 1)", 2) end
  if type(kind) ~= "function" and kind ~= "slope" and kind ~= "r" and kind ~= "mean" then
    error("bootstrap.clusters: option 'statistic' must be slope, r, mean or a function", 2)
  end
  if type(y) ~= "table" then error("bootstrap.clusters: y must be an array", 2) end
  local n = #y
  if kind ~= "mean" and type(kind) ~= "function" and (type(x) ~= "table" or #x ~= n) then
    error(string.format("bootstrap.clusters: x needs %d numbers", n), 2)
  end
  local design, a, b, na, nb
  if clusters.crossed then
    design = "crossed"
    a, na = index(clusters.crossed[1], n, "crossed[1]")
    b, nb = index(clusters.crossed[2], n, "crossed[2]")
  elseif clusters.nested then
    design = "nested"
    a, na = index(clusters.nested[1], n, "nested[1]")
    local pairs_ = {}
    for i = 1, n do
      local inner = clusters.nested[2][i]
      if inner == nil then error(string.format("bootstrap.clusters: nested[2][%d] is not an id", i), 2) end
      pairs_[i] = tostring(a[i]) .. "\0" .. tostring(inner)
    end
    b, nb = index(pairs_, n, "nested[2]")
  else
    design = "one"
    a, na = index(clusters, n, "clusters")
  end
  if na < 2 or (design == "crossed" and nb < 2) then
    return nil, string.format("bootstrap.clusters: need at least 2 clusters per factor, got %d%s", na,
      design == "crossed" and (" x " .. nb) or "")
  end
  local inner_of = {}   -- nested: inner codes of each outer code
  if design == "nested" then
    local seen = {}
    for i = 1, n do
      if not seen[b[i]] then
        seen[b[i]] = true
        inner_of[a[i]] = inner_of[a[i]] or {}
        table.insert(inner_of[a[i]], b[i])
      end
    end
  end
  local ca, cb = {}, {}
  local weight_of_row
  if design == "crossed" then
    weight_of_row = function(i) return ca[a[i]] * cb[b[i]] end
  elseif design == "nested" then
    weight_of_row = function(i) return cb[b[i]] end
  else
    weight_of_row = function(i) return ca[a[i]] end
  end
  local estimate_of
  if type(kind) == "function" then
    local w = {}
    estimate_of = function(full)
      for i = 1, n do w[i] = full and 1 or weight_of_row(i) end
      return kind(w)
    end
  else
    local cells = cells_of(x, y, design == "one" and function(i) return a[i] end
      or function(i) return a[i] * (nb + 1) + b[i] end)
    local function weight(c) return weight_of_row(c.i) end
    local function one() return 1 end
    estimate_of = function(full) return from_sums(kind, cells, full and one or weight) end
  end
  local estimate = estimate_of(true)
  if estimate ~= estimate then return nil, "bootstrap.clusters: the statistic is undefined on the data" end
  local g <close> = stats.rng(opts.seed or 1)
  local function draw(m) return math.floor(g:uniform() * m) + 1 end
  local values = {}
  for _ = 1, reps do
    for k = 1, na do ca[k] = 0 end
    for k = 1, nb or 0 do cb[k] = 0 end
    for _ = 1, na do local k = draw(na); ca[k] = ca[k] + 1 end
    if design == "crossed" then
      for _ = 1, nb do local k = draw(nb); cb[k] = cb[k] + 1 end
    elseif design == "nested" then
      for o = 1, na do
        local list = inner_of[o]
        for _ = 1, ca[o] do
          for _ = 1, #list do local k = list[draw(#list)]; cb[k] = cb[k] + 1 end
        end
      end
    end
    local s = estimate_of(false)
    if s == s then values[#values + 1] = s end
  end
  if #values < 10 then return nil, "bootstrap.clusters: the statistic is undefined in most samples" end
  table.sort(values)
  local m, ss = 0, 0
  for _, v in ipairs(values) do m = m + v end
  m = m / #values
  for _, v in ipairs(values) do ss = ss + (v - m) ^ 2 end
  local q = (1 - level) / 2
  local count = { na }
  if design ~= "one" then count[2] = nb end
  return { estimate = estimate, se = math.sqrt(ss / (#values - 1)),
    lo = values[math.floor(q * (#values - 1)) + 1], hi = values[math.ceil((1 - q) * (#values - 1)) + 1],
    reps = #values, clusters = count, design = design, level = level }
end

return M
