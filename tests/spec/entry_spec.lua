-- introspect.run.entry: options with did-you-mean and --help, paths beside the script, one-line
-- errors, exit statuses 0/1/2/3/130, and Ctrl-C closing what the script opened (a response
-- store checkpointed: no -wal/-shm left) with one line saying how to resume.
local entry = require "introspect.run.entry"
local suggest = require "introspect.core.suggest"
local util = require "introspect.core.util"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")

-- A stderr that keeps what is written.
local function sink()
  return { text = "", write = function(self, ...)
    for _, s in ipairs({ ... }) do self.text = self.text .. s end
    return self
  end }
end

local SPEC = { { "models", "list", nil, "models" }, { "trials", "integer", 5, "trials" },
  { "dry-run", "boolean", false, "plan only" } }

local function run(fn, argv)
  local err = sink()
  argv = argv or {}
  argv[0] = argv[0] or "experiments/demo.lua"
  local status = entry.run({ options = SPEC }, fn, argv, err)
  return status, err.text
end

describe("entry.run", function()
  it("passes typed options to the script and exits 0", function()
    local got
    local status, text = run(function(o) got = o end, { "--models=a,b", "--trials=7" })
    assert.equal(0, status)
    assert.equal("", text)
    assert.same({ "a", "b" }, got.models)
    assert.equal(7, got.trials)
    assert.is_nil(got.help)
  end)

  it("rejects an unknown option with status 2 and the closest name", function()
    local called = false
    local status, text = run(function() called = true end, { "--model=sim-large" })
    assert.equal(2, status)
    assert.is_false(called)
    assert.matches("demo.lua: unknown option '--model' (did you mean --models?)", text, 1, true)
    assert.matches("Run with --help", text, 1, true)
  end)

  it("rejects a stray positional argument (status 2)", function()
    local status, text = run(function() end, { "sim-large" })
    assert.equal(2, status)
    assert.matches("unexpected argument 'sim-large'", text, 1, true)
  end)

  it("ends a usage_error with status 2 and no traceback", function()
    local status, text = run(function() entry.usage_error("--trials must be at least %d", 2) end)
    assert.equal(2, status)
    assert.equal("demo.lua: --trials must be at least 2\nRun with --help for the options.\n", text)
  end)

  it("prints a raised error as one line without its position (status 1)", function()
    local status, text = run(function()
      error("/src/scripts/introspect/study/init.lua:76: openai.new: no API key (set OPENAI_API_KEY)", 0)
    end)
    assert.equal(1, status)
    assert.equal("demo.lua: openai.new: no API key (set OPENAI_API_KEY)\n", text)
  end)

  it("keeps the position of an error in a data file (it is the point of the message)", function()
    local status, text = run(function() error("/tmp/x/broken.lua:1: unexpected symbol near <eof>", 0) end)
    assert.equal(1, status)
    assert.equal("demo.lua: /tmp/x/broken.lua:1: unexpected symbol near <eof>\n", text)
  end)

  it("prints a structured error through its __tostring", function()
    local e = setmetatable({ message = "m" }, { __tostring = function() return "429 rate limited" end })
    local status, text = run(function() error(e) end)
    assert.equal(1, status)
    assert.equal("demo.lua: 429 rate limited\n", text)
  end)

  it("says a Lua runtime error is an internal error and keeps its position", function()
    local status, text = run(function() local t = nil; return t.x end)
    assert.equal(1, status)
    assert.matches("^demo.lua: internal error: .*entry_spec.lua:%d+: attempt to index", text)
  end)

  it("returns entry.FAILED as status 3 and an integer result as the status", function()
    assert.equal(3, (run(function() return entry.FAILED end)))
    assert.equal(0, (run(function() return "ignored" end)))
  end)

  it("treats 'interrupted!' as Ctrl-C: one line, status 130", function()
    local status, text = run(function() error("scripts/introspect/core/pyjson.lua:34: interrupted!") end)
    assert.equal(130, status)
    assert.equal(entry.INTERRUPTED_MESSAGE .. "\n", text)
  end)

  it("closes what was registered, newest first, however the script ends", function()
    for _, how in ipairs({ "done", "error", "interrupted" }) do
      local order = {}
      run(function()
        entry.closing({ close = function() order[#order + 1] = "first" end })
        entry.closing({ close = function() order[#order + 1] = "second" end })
        if how == "error" then error("boom") elseif how == "interrupted" then error("interrupted!") end
      end)
      assert.same({ "second", "first" }, order, how)
    end
  end)

  it("prints --help on stdout with the options (status 0)", function()
    local out = io.popen(string.format("cd '%s' && '%s' -e \"arg={[0]='x.lua','--help'} "
      .. "os.exit(require('introspect.run.entry').run({description='Demo.', "
      .. "options={{'out','string','runs/x','dir'}}}, function() error('ran') end))\"; echo \"exit=$?\"", SOURCE, BIN))
    local text = out:read("a")
    out:close()
    assert.matches("usage: introspect x.lua [options]", text, 1, true)
    assert.matches("--out=STRING  dir [default: runs/x]", text, 1, true)
    assert.matches("exit=0", text, 1, true)
  end)
end)

describe("entry paths", function()
  it("finds files beside the script", function()
    assert.equal("experiments", entry.here({ [0] = "experiments/paper.lua" }))
    assert.equal(".", entry.here({ [0] = "paper.lua" }))
    assert.equal("experiments/scenarios/roles.lua", entry.beside("scenarios/roles.lua", { [0] = "experiments/x.lua" }))
    assert.equal("/abs/file", entry.beside("/abs/file", { [0] = "experiments/x.lua" }))
  end)
end)

describe("suggest", function()
  it("ranks names closest first", function()
    assert.same({ "sim-large", "sim-small", "gpt-4o" },
      suggest.closest("sim-lrge", { "gpt-4o", "sim-small", "sim-large" }))
    assert.equal(" (did you mean serve?)", suggest.did_you_mean("serv", { "help", "serve", "store", "version" }))
    assert.equal("", suggest.did_you_mean("xyzzy", { "serve", "store" }))
    assert.equal(1, suggest.distance("gpt-4o-mni", "gpt-4o-mini"))
    assert.equal(1, suggest.distance("ab", "ba"))
  end)
end)

describe("Ctrl-C in a script run by the host", function()
  it("prints one line, exits 130 and leaves the store checkpointed and closed", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(util.mkdir_p(dir))
    local script = dir .. "/spin.lua"
    assert(util.write_file_atomic(script, [[
local entry = require "introspect.run.entry"
local store = require "introspect.client.store"
entry.main({ options = { { "db", "string", nil, "store" } } }, function(opts)
  local st = entry.closing(assert(store.open(opts.db)))
  st:record({ key = "k", base_url = "u", model = "m", sample = 0, method = "POST", path = "/x",
    request = "{}", status = 200, response = "{}", ok = true })
  io.stdout:write("ready\n") io.stdout:flush()
  while true do end
end)
]]))
    local cmd = string.format("'%s' '%s' --db='%s/r.sqlite' >'%s/out' 2>'%s/err' & pid=$!; "
      .. "for i in $(seq 100); do grep -q ready '%s/out' 2>/dev/null && break; sleep 0.1; done; "
      .. "kill -INT $pid; wait $pid; echo $?", BIN, script, dir, dir, dir, dir)
    local p = io.popen(cmd)
    local code = tonumber(p:read("a"):match("(%d+)%s*$"))
    p:close()
    assert.equal(130, code)
    assert.equal(entry.INTERRUPTED_MESSAGE .. "\n", util.read_file(dir .. "/err"))
    assert.is_true(util.file_exists(dir .. "/r.sqlite"))
    assert.is_false(util.file_exists(dir .. "/r.sqlite-wal"))
    assert.is_false(util.file_exists(dir .. "/r.sqlite-shm"))
    os.execute("rm -rf '" .. dir .. "'")
  end)
end)
