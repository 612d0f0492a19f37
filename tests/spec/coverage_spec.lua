-- introspect.coverage, the C line hook under `make coverage` (tests/coverage/hook.lua): the
-- lines a chunk runs are recorded under its source, in coroutines too, and a source address
-- the collector frees and hands to another chunk does not mix their lines. Under `make
-- coverage` this spec's own process loses the lines counted before coverage.clear().
local cov = require "introspect.coverage"

-- sorted(set) -> the keys of set, sorted
local function sorted(set)
  local list = {}
  for k in pairs(set or {}) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- CODE runs lines 1, 2, 3 and 6 (line 4 is skipped, line 5 has no code).
local CODE = "local x = 1\nlocal y = x + 1\nif y > 5 then\n  x = 0\nend\nreturn y\n"

describe("introspect.coverage", function()
  after_each(function() cov.start() end)   -- as the coverage run had it

  it("records the lines a chunk runs under its source, and nothing after stop", function()
    local f = assert(load(CODE, "@coverage_spec/a.lua"))
    cov.clear()
    cov.start()
    f()
    cov.stop()
    local on = cov.active()
    f()
    assert.is_false(on)
    local lines, lost = cov.lines()
    assert.same({ 1, 2, 3, 6 }, sorted(lines["@coverage_spec/a.lua"]))
    assert.equal(0, lost)
    -- a second chunk with the same source: merged
    local g = assert(load("local a = 1\n\nreturn a\n", "@coverage_spec/a.lua"))
    cov.start()
    g()
    cov.stop()
    assert.same({ 1, 2, 3, 6 }, sorted(cov.lines()["@coverage_spec/a.lua"]))
    cov.clear()
    assert.is_nil(cov.lines()["@coverage_spec/a.lua"])
  end)

  it("records coroutines: those armed with start(co) and those created while the hook is on", function()
    local body = assert(load("local x = ...\nx = coroutine.yield(x)\nreturn x\n", "@coverage_spec/co.lua"))
    cov.stop()
    local co = coroutine.create(body)
    cov.start(co)
    -- read both before asserting: under make coverage a require (luassert loads lazily)
    -- re-arms the running thread
    local co_on, main_on = cov.active(co), cov.active()
    assert.is_true(co_on)
    assert.is_false(main_on)
    cov.clear()
    assert.is_true(coroutine.resume(co, 1))
    assert.same({ 1, 2 }, sorted(cov.lines()["@coverage_spec/co.lua"]))
    assert.is_true(coroutine.resume(co, 2))
    assert.same({ 1, 2, 3 }, sorted(cov.lines()["@coverage_spec/co.lua"]))
    -- created by a thread that has the hook: inherits it
    local inner = assert(load("local n = 0\nfor i = 1, 3 do n = n + i end\nreturn n\n", "@coverage_spec/inherit.lua"))
    cov.clear()
    cov.start()
    local wrapped = coroutine.wrap(function() return inner() end)
    cov.stop()
    assert.equal(6, wrapped())
    assert.same({ 1, 2, 3 }, sorted(cov.lines()["@coverage_spec/inherit.lua"]))
    cov.stop(co)
    assert.is_false(cov.active(co))
  end)

  it("keeps chunks apart when a freed source's address is reused", function()
    -- 300 chunks with sources of one length (long strings, not interned), each dropped and
    -- collected before the next is loaded: the allocator reuses the addresses
    local want = {}
    cov.clear()
    for i = 1, 300 do
      local name = string.format("@coverage_spec/reused/chunk-%06d-padding-to-a-long-string.lua", i)
      local k = i % 3 + 1
      local f = assert(load(string.rep("\n", k - 1) .. "return " .. i .. "\n", name))
      cov.start()
      assert.equal(i, f())
      cov.stop()
      want[name] = { k }
      f = nil   -- luacheck: ignore 311
      collectgarbage()
    end
    local lines = cov.lines()
    for name, list in pairs(want) do assert.same(list, sorted(lines[name]), name) end
  end)

  it("refuses a thread argument that is not a thread", function()
    assert.has_error(function() cov.start("main") end)
    assert.has_error(function() cov.active(1) end)
  end)
end)
