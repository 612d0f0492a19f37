-- Helpers for the Lua fuzz targets (tests/fuzz/targets/*.lua): splitting one input into parts,
-- a scratch file for the loaders that read a path, and contract checks that raise a finding.
local M = {}

-- split(data, n) -> up to n parts of data separated by NUL bytes (the last part keeps the rest).
function M.split(data, n)
  local parts, pos = {}, 1
  while #parts < n - 1 do
    local z = data:find("\0", pos, true)
    if not z then break end
    parts[#parts + 1] = data:sub(pos, z - 1)
    pos = z + 1
  end
  parts[#parts + 1] = data:sub(pos)
  return parts
end

local scratch = {}

-- scratch_file(ext, text) -> path of a per-process file with that extension holding text.
function M.scratch_file(ext, text)
  local path = scratch[ext]
  if not path then
    path = os.tmpname()
    os.remove(path)
    path = path .. "." .. ext
    scratch[ext] = path
  end
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- finding(fmt, ...) raises a contract violation (the harness aborts on it).
function M.finding(fmt, ...)
  error("FINDING: " .. string.format(fmt, ...), 2)
end

-- check_error(where, err, must_contain) -> checks a nil, err return: err is a non-empty string
-- that names must_contain (a file path) when given.
function M.check_error(where, err, must_contain)
  if type(err) ~= "string" or err == "" then M.finding("%s: nil without an error message", where) end
  if must_contain and not err:find(must_contain, 1, true) then
    M.finding("%s: error does not name %s: %s", where, must_contain, err)
  end
end

-- finite(x) -> whether x is a finite number
function M.finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end

return M
