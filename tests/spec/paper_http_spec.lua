-- experiments/paper.lua over HTTP against `introspect serve`: the same results as the in-process
-- simulated subject; --batch samples through the Batch API only; the API key reaches no file.
local cjson = require "cjson"
local sys = require "introspect.sys"
local util = require "introspect.core.util"
local support = require "paper_support"

local SMALL, run, tmpdir, all_files = support.SMALL, support.run, support.tmpdir, support.files
local KEY = "sk-introspect-test-KEY-7f3a9c21e5d84b60"

local function serve() return support.serve("--key=" .. KEY) end

local COMPARED = { "sim-large_weight_reports.csv", "sim-large_instilled_weight_reports.csv",
  "sim-large_itrained_first_10_of_20_50ex_weight_reports.csv", "sim-large_instilled_latent_weight_reports.csv",
  "sim-large_itrained_all_20_50ex_latent_weight_reports.csv", "sim-large_instilled_selections.csv",
  "sim-large_instilled_latent_selections.csv", "sim-large_regression_results.csv",
  "sim-large_latent_regression_results.csv" }

local function statistics(dir)
  local text = util.read_file(dir .. "/summary.json")
  assert.is_string(text, dir .. "/summary.json")
  return cjson.decode(text).models
end

describe("paper.lua against introspect serve", function()
  local local_dir = tmpdir()
  local lout, lcode = run(SMALL .. " --out=" .. local_dir)
  local url, pid, log = serve()
  local http_dir = tmpdir()
  local hout, hcode = run(SMALL .. " --backend=" .. url .. " --poll-interval=0.05 --out=" .. http_dir,
    "OPENAI_API_KEY=" .. KEY)
  local batch_dir = tmpdir()
  local before_batch = #(util.read_file(log) or "")
  local bout, bcode = run(SMALL .. " --backend=" .. url .. " --batch --poll-interval=0.05 --out=" .. batch_dir,
    "OPENAI_API_KEY=" .. KEY)
  local batch_log = (util.read_file(log) or ""):sub(before_batch + 1)
  sys.kill(pid, "TERM")

  it("completes in process and over HTTP", function()
    assert.equal(0, lcode, lout)
    assert.equal(0, hcode, hout)
  end)

  it("gives the same results over HTTP as in process", function()
    for _, name in ipairs(COMPARED) do
      assert.equal(util.read_file(local_dir .. "/" .. name), util.read_file(http_dir .. "/" .. name), name)
    end
    assert.same(statistics(local_dir), statistics(http_dir))
  end)

  it("with --batch, samples through the Batch API only, with results equal to the direct run", function()
    assert.equal(0, bcode, bout)
    assert.matches("POST /v1/batches 200", batch_log)
    assert.is_nil(batch_log:find("POST /v1/chat/completions", 1, true), "no direct chat requests")
    local a, b = statistics(http_dir)["sim-large"], statistics(batch_dir)["sim-large"]
    for cond, R in pairs(a.reports) do
      assert.is_true(math.abs(R.slope - b.reports[cond].slope) < 0.15, cond)
    end
  end)

  it("never writes the API key into the run directory", function()
    for _, dir in ipairs({ http_dir, batch_dir }) do
      for _, f in ipairs(all_files(dir)) do
        local text = util.read_file(f) or ""
        assert.is_nil(text:find(KEY, 1, true), f .. " contains the API key")
        assert.is_nil(text:find("KEY-7f3a9c21", 1, true), f .. " contains part of the API key")
      end
    end
    assert.is_nil(hout:find(KEY, 1, true))
  end)

  it("fails at once with a clear message when the key is wrong", function()
    local url2, pid2 = serve()
    local out, code = run(SMALL .. " --backend=" .. url2 .. " --out=" .. tmpdir(),
      "OPENAI_API_KEY=sk-wrong-key-000000000000")
    sys.kill(pid2, "TERM")
    assert.equal(1, code)
    assert.matches("401", out)
    assert.is_nil(out:find("sk-wrong-key-000000000000", 1, true))
  end)
end)
