-- Did-you-mean: the names closest to a mistyped one (options, subcommands, models).
--
--   suggest.closest("serv", {"serve", "store", "version"})  --> {"serve", "store", ...}
--   suggest.did_you_mean("--model", {"--models", "--out"})  --> " (did you mean --models?)"
local M = {}

-- distance(a, b) -> the optimal-string-alignment edit distance (insert, delete, substitute and
-- swap two neighbours each cost 1), compared case-insensitively.
function M.distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = ca == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

-- closest(word, names [, max]) -> every name sorted closest first (ties: a name that contains
-- the word, then one the word contains, then alphabetically); with max, only names within that
-- edit distance or containing the word (or contained in it).
function M.closest(word, names, max)
  local rows = {}
  local lw = word:lower()
  for _, name in ipairs(names) do
    local ln = name:lower()
    local d = M.distance(word, name)
    -- a name holding the word (typed short) ranks before one the word holds (typed long)
    local bonus = #lw >= 3 and (ln:find(lw, 1, true) and 0.5 or lw:find(ln, 1, true) and 0.25) or 0
    if not max or d <= max or bonus > 0 then
      rows[#rows + 1] = { name = name, d = d - bonus }
    end
  end
  table.sort(rows, function(x, y)
    if x.d ~= y.d then return x.d < y.d end
    return x.name < y.name
  end)
  local out = {}
  for i, r in ipairs(rows) do out[i] = r.name end
  return out
end

-- tolerance(word) -> the edit distance still counted as a typo of a word this long.
function M.tolerance(word)
  return math.max(1, math.min(3, #word // 3))
end

-- did_you_mean(word, names) -> " (did you mean X?)" for the closest plausible name, or "".
function M.did_you_mean(word, names)
  local best = M.closest(word, names, M.tolerance(word))[1]
  if not best then return "" end
  return " (did you mean " .. best .. "?)"
end

return M
