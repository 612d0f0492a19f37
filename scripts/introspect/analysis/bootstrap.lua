-- Cluster bootstrap with string (or any) ids and one, crossed or nested cluster levels: the
-- options of the analysis layer over the one implementation, C's stats.cluster_bootstrap.
-- Rows sharing a cluster are resampled together; the statistic is recomputed on the weighted
-- rows of each bootstrap sample. See docs/statistics.md ("Cluster bootstrap").
local stats = require "introspect.stats"
local util = require "introspect.core.util"

local M = {}

-- ours(message) -> the message naming bootstrap.clusters instead of stats.cluster_bootstrap.
local function ours(message)
  return type(message) == "string" and (message:gsub("^stats%.cluster_bootstrap", "bootstrap.clusters"))
    or message
end

---@class BootstrapResult
---@field estimate number the statistic on the full data
---@field se number SD of the bootstrap values
---@field lo number
---@field hi number percentile interval at `level`
---@field reps integer valid bootstrap samples
---@field clusters integer[] clusters per factor ({C} or {R, C})
---@field design string "one", "crossed" or "nested"
---@field level number

-- clusters(x, y, clusters [, opts]) -> {estimate, se, lo, hi, reps, clusters, design, level}
-- | nil, err. x, y: arrays of numbers (x may be nil for statistic "mean"). clusters: an
-- array of ids (strings or numbers; one level), {crossed = {ids1, ids2}} (both factors
-- resampled independently; a row's weight is the product of its two counts), or
-- {nested = {outer, inner}} (outer clusters resampled, then within each drawn outer cluster
-- its inner clusters; inner ids are read within their outer cluster). opts: reps (2000),
-- level (0.95), seed (1), statistic "slope" (of y on x; default), "r", "mean" (of y), or a
-- function(w) -> number given each row's weight (0, 1, 2, ...). Percentile interval.
---@param x number[]|nil
---@param y number[]
---@param clusters table
---@param opts? {reps: integer, level: number, seed: integer, statistic: string|function}
---@return BootstrapResult|nil result
---@return string|nil err
function M.clusters(x, y, clusters, opts)
  opts = util.check_options("bootstrap.clusters", opts, { reps = "integer", level = "number",
    seed = "integer", statistic = "any" })
  if type(y) ~= "table" then error("bootstrap.clusters: y must be an array", 2) end
  if type(clusters) ~= "table" then error("bootstrap.clusters: clusters must be a table", 2) end
  local ok, res, err = pcall(stats.cluster_bootstrap, x, y, clusters, { reps = opts.reps or 2000,
    level = opts.level, seed = opts.seed or 1, statistic = opts.statistic })
  if not ok then error(ours(res), 2) end
  if not res then return nil, ours(err) end
  res.clusters = { res.clusters, res.clusters_inner }
  res.clusters_inner = nil
  return res
end

return M
