-- introspect.run.rundir: run directories with a lock, a secret-free manifest, resumable state.
local rundir = require "introspect.run.rundir"
local util = require "introspect.core.util"
local cjson = require "cjson"

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

describe("rundir", function()
  it("creates the directory, a manifest and a state file", function()
    local dir = tmpdir() .. "/a/b"
    local run = assert(rundir.open(dir, { name = "demo", manifest = { seed = 3, backend = "sim" } }))
    local m = cjson.decode(util.read_file(dir .. "/manifest.json"))
    assert.equal(rundir.FORMAT, m.format)
    assert.equal("demo", m.name)
    assert.equal(3, m.seed)
    run:set("job.instill", "ftjob-1")
    local s = cjson.decode(util.read_file(dir .. "/state.json"))
    assert.equal("ftjob-1", s["job.instill"])
    run:close()
  end)

  it("refuses a second run in the same directory while the first holds it", function()
    local dir = tmpdir()
    local first = assert(rundir.open(dir))
    local second, err = rundir.open(dir)
    assert.is_nil(second)
    assert.matches("in use by process %d+", err)
    first:close()
    local third = assert(rundir.open(dir))
    third:close()
  end)

  it("resumes: recorded state comes back and once() does not redo work", function()
    local dir = tmpdir()
    local run = assert(rundir.open(dir))
    local calls = 0
    local function work() calls = calls + 1; return { id = "file-7" } end
    assert.same({ id = "file-7" }, run:once("upload", work))
    run:close()
    local again = assert(rundir.open(dir))
    assert.is_true(again.resumed)
    local v, cached = again:once("upload", work)
    assert.same({ id = "file-7" }, v)
    assert.is_true(cached)
    assert.equal(1, calls)
    again:close()
  end)

  it("never writes secrets into the manifest", function()
    local dir = tmpdir()
    local key = "sk-test-SECRET1234567890"
    local run = assert(rundir.open(dir, { manifest = { api_key = key, backend = { url = "http://x",
      headers = { Authorization = "Bearer " .. key } }, note = key, max_tokens = 5 } }))
    run:set_manifest("profile", { openai_api_key = key })
    local text = util.read_file(dir .. "/manifest.json")
    assert.is_nil(text:find("SECRET", 1, true))
    assert.matches('"max_tokens": 5', text)
    run:close()
  end)

  it("refuses a run directory written by another layout version", function()
    local dir = tmpdir()
    util.mkdir_p(dir)
    util.write_file_atomic(dir .. "/manifest.json", '{"format": 0}')
    local run, err = rundir.open(dir)
    assert.is_nil(run)
    assert.matches("manifest.json was written by introspect run format 0", err)
  end)

  it("names the file when state.json is corrupt", function()
    local dir = tmpdir()
    util.mkdir_p(dir)
    util.write_file_atomic(dir .. "/state.json", "{broken")
    local run, err = rundir.open(dir)
    assert.is_nil(run)
    assert.matches("state.json: not valid JSON", err)
  end)

  it("writes stable JSON with sorted keys", function()
    assert.equal('{\n  "a": 1,\n  "b": [1, 2],\n  "c": {\n    "d": "x"\n  }\n}\n',
      rundir.json({ c = { d = "x" }, b = { 1, 2 }, a = 1 }))
  end)
end)
