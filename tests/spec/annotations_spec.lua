-- LuaCATS annotations (---@param, ---@return) of the Lua library, for lua-language-server: for
-- every function preceded by ---@param lines, the annotated names must be the function's
-- parameters, in order (self is implied by ':'; "..." is annotated as "..."). A misspelt or
-- stale annotation fails here, naming the file, line and function.
local util = require "introspect.core.util"

local ROOT = os.getenv("INTROSPECT_SOURCE") or "."

local function files()
  local p = assert(io.popen("cd '" .. ROOT .. "/scripts' && find introspect -name '*.lua' | sort"))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- check(text, where) -> list of mismatches, number of annotated functions
local function check(text, where)
  local bad, count, params, first = {}, 0, {}, nil
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    local name = line:match("^%s*%-%-%-@param%s+([%w_%.]+%??)")
    if name then
      params[#params + 1] = (name:gsub("%?$", ""))
      first = first or n
    elseif not line:match("^%s*%-%-%-") then
      if #params > 0 then
        local fname, args = line:match("^%s*local%s+function%s+([%w_%.:]+)%s*(%b())")
        if not fname then fname, args = line:match("^%s*function%s+([%w_%.:]+)%s*(%b())") end
        if not fname then fname, args = line:match("^%s*[%w_%.]+%s*=%s*function%s*(%b())"), nil end
        if fname and args then
          count = count + 1
          local got = {}
          for a in args:sub(2, -2):gmatch("[^,%s]+") do got[#got + 1] = a end
          if table.concat(got, ",") ~= table.concat(params, ",") then
            bad[#bad + 1] = string.format("%s:%d: %s(%s) is annotated with @param %s", where, first, fname,
              table.concat(got, ", "), table.concat(params, ", "))
          end
        else
          bad[#bad + 1] = string.format("%s:%d: @param lines not followed by a function", where, first)
        end
      end
      params, first = {}, nil
    end
  end
  return bad, count
end

describe("LuaCATS annotations", function()
  it("name each annotated function's parameters, in order", function()
    local bad, total = {}, 0
    for _, f in ipairs(files()) do
      local text = assert(util.read_file(ROOT .. "/scripts/" .. f))
      local b, count = check(text, "scripts/" .. f)
      total = total + count
      for _, msg in ipairs(b) do bad[#bad + 1] = msg end
    end
    assert.are.same({}, bad)
    assert.is_true(total >= 40, "only " .. total .. " annotated functions")
  end)

  it("would catch a stale annotation", function()
    local bad = check("---@param a number\n---@param c number\nfunction M.f(a, b) end\n", "x.lua")
    assert.equal(1, #bad)
    assert.matches("x.lua:1: M.f%(a, b%) is annotated with @param a, c", bad[1])
    assert.equal(0, #check("---@param a number\nfunction M:f(a) end\n", "x.lua"))
  end)
end)
