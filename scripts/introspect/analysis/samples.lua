-- Several sampled choices of one trial (n samples at temperature > 0) as one soft-labelled
-- selection: P(A) = the share of A among its valid samples. See docs/statistics.md.
local M = {}

local function key_of(s)
  return string.format("%s\0%s\0%s", tostring(s.scenario), table.concat(s.a, ","), table.concat(s.b, ","))
end

-- proportions(selections) -> pooled, info
-- selections: {scenario=, selection="A"|"B", a=, b= [, trial=]} (any other selection value,
-- e.g. an invalid reply, is counted in info.invalid and left out). Samples of one trial share
-- its table `trial` when they carry one, else the same scenario and option values. pooled: one
-- selection per trial in first-appearance order, {scenario=, a=, b=, model=, selection = the
-- majority ("A" on a tie), p_a = share of A, n = valid samples}; fit with
-- analysis.fit_weights(pooled, ranges, {soft = true}). info = {trials, samples, invalid}.
function M.proportions(selections)
  local pooled, byk, info = {}, {}, { trials = 0, samples = 0, invalid = 0 }
  for _, s in ipairs(selections) do
    if s.selection ~= "A" and s.selection ~= "B" then
      info.invalid = info.invalid + 1
    else
      local k = s.trial or key_of(s)
      local p = byk[k]
      if not p then
        p = { scenario = s.scenario, a = s.a, b = s.b, model = s.model, n = 0, count_a = 0 }
        byk[k] = p
        pooled[#pooled + 1] = p
      end
      p.n = p.n + 1
      if s.selection == "A" then p.count_a = p.count_a + 1 end
      info.samples = info.samples + 1
    end
  end
  for _, p in ipairs(pooled) do
    p.p_a = p.count_a / p.n
    p.selection = p.count_a * 2 >= p.n and "A" or "B"
    p.count_a = nil
  end
  info.trials = #pooled
  return pooled, info
end

return M
