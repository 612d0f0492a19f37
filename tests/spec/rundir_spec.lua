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

-- Issue 15 item 2: one run directory, one run.
describe("rundir identity", function()
  local A = { backend = "sim", models = { "sim-small", "sim-large" }, design = { contexts = 20 } }

  it("refuses a run of another backend, models or design, naming the run and --out", function()
    local dir = tmpdir()
    assert(rundir.open(dir, { identity = A })):close()
    local before = util.read_file(dir .. "/manifest.json")
    for key, value in pairs({ backend = "openai", models = { "gpt-4o-mini" }, design = { contexts = 100 } }) do
      local other = { backend = A.backend, models = A.models, design = A.design }
      other[key] = value
      local run, err = rundir.open(dir, { identity = other })
      assert.is_nil(run)
      assert.matches(dir .. " holds another run", err, 1, true)
      assert.matches("--out=DIR", err, 1, true)
      assert.is_nil(rundir.check(dir, other))
    end
    assert.equal(before, util.read_file(dir .. "/manifest.json"))
    local again = assert(rundir.open(dir, { identity = A }))
    assert.is_true(again.resumed)
    assert.same(A.models, again.manifest.identity.models)
    again:close()
  end)

  it("a dry run creates no directory and never writes into an existing one", function()
    local fresh = tmpdir()
    local run = assert(rundir.open(fresh, { identity = A, dry_run = true }))
    run:set("x", 1)
    run:set_manifest("backend", "openai")
    run:write("plan.txt", "p")
    run:close()
    assert.is_false(util.file_exists(fresh))
    assert.equal("p", run.files["plan.txt"])

    local dir = tmpdir()
    assert(rundir.open(dir, { identity = A })):close()
    local before = util.read_file(dir .. "/manifest.json")
    local dry = assert(rundir.open(dir, { identity = { backend = "openai" }, dry_run = true }))
    dry:set_manifest("backend", "openai")
    dry:set("k", 2)
    dry:close()
    assert.equal(before, util.read_file(dir .. "/manifest.json"))
    assert.is_nil(cjson.decode(util.read_file(dir .. "/state.json") or "{}").k)
  end)

  it("writes paths without escaped slashes", function()
    assert.equal('{\n  "experiment": "experiments/paper.lua",\n  "x": "a\\\\/b"\n}\n',
      rundir.json({ experiment = "experiments/paper.lua", x = "a\\/b" }))
  end)
end)
