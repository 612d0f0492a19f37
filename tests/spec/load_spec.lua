-- The library and every built binding load the same way in the host and in stock lua5.4.
local skip = require "lib.skip"
local build = os.getenv("INTROSPECT_BUILD") or "build"
local in_host = package.preload["introspect.host"] ~= nil

local function built_bindings()
  local names = {}
  local p = io.popen("ls '" .. build .. "/lua/introspect' 2>/dev/null")
  for file in p:lines() do
    local name = file:match("^(%w+)%.so$")
    if name then names[#names + 1] = name end
  end
  p:close()
  return names
end

describe("module loading", function()
  it("requires the introspect library", function()
    local ix = require "introspect"
    assert.is_table(ix)
    assert.is_function(ix.help)
    assert.equal(require "introspect.repl.pretty", ix.pretty)
  end)

  it("loads cjson", function()
    assert.equal("[1,2]", require("cjson").encode({ 1, 2 }))
  end)

  it("loads every binding that was built", function()
    for _, name in ipairs(built_bindings()) do
      local mod = require("introspect." .. name)
      assert.is_table(mod, name)
      if in_host then
        assert.is_function(package.preload["introspect." .. name], name .. " is preloaded in the host")
      else
        assert.truthy(package.searchpath("introspect." .. name, package.cpath), name .. " on cpath")
      end
    end
  end)

  it("works with the documented stock lua5.4 command line", function()
    if os.getenv("INTROSPECT_SANITIZE") == "1" then
      skip.missing("load_spec", "stock lua5.4 command line not run in the sanitizer build",
        { optional = "the modules need the ASan runtime preloaded there; the normal build runs it" })
      return
    end
    local cmd = string.format(
      "cd '%s' && LUA_CPATH='%s/lua/?.so;;' LUA_PATH='scripts/?.lua;scripts/?/init.lua;;' " ..
      "lua5.4 -e 'require \"introspect\"; print(\"loaded\")' 2>&1",
      os.getenv("INTROSPECT_SOURCE") or ".", build)
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    assert.equal("loaded\n", out)
  end)
end)
