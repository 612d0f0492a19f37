-- The collector while a study session is open: incremental (a study's heap grows through each
-- phase), and back to generational mode, the host's and the workers' (lalloc_gc_mode), when the
-- session closes.
local study = require "introspect.study"
local session = require "introspect.study.session"

describe("study.session and the collector", function()
  it("collects incrementally while open and restores generational mode at close", function()
    local dir = os.tmpname()
    os.remove(dir)
    collectgarbage("generational")
    local s = study.session({ out = dir, models = { "sim-small" } })
    -- collectgarbage(mode) returns the mode it found; the session's parameters stay set
    assert.equal("incremental", collectgarbage("incremental", session.GC_PAUSE, session.GC_STEPMUL))
    s:close()
    assert.equal("generational", collectgarbage("generational"))
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("leaves the collector as it was when the session is refused", function()
    local dir = os.tmpname()
    os.remove(dir)
    collectgarbage("generational")
    assert.has_error(function() study.session({ out = dir, models = { "sim-no-such-model" } }) end)
    assert.equal("generational", collectgarbage("generational"))
  end)

  it("leaves incremental mode alone when it found it", function()
    local dir = os.tmpname()
    os.remove(dir)
    collectgarbage("incremental")
    study.session({ out = dir, models = { "sim-small" } }):close()
    assert.equal("incremental", collectgarbage("generational"))
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)
