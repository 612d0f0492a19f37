-- paper.lua --backend=local with its fine-tunes as Slurm batch jobs on a real one-node cluster
-- (tests/servers/slurm_cluster.lua, started here as root in a private directory) and the shipped
-- job template (experiments/slurm/finetune.sbatch): two stages end to end; a SIGKILL of paper.lua
-- while a job runs, then a re-run that finds the job by its name instead of submitting another;
-- Ctrl-C cancels the running job; a failed job's state and log reach the user.
local P = require("paper_support")
local standins = require("servers.standins")
local sys = require("introspect.sys")
local util = require("introspect.core.util")
local cjson = require("cjson")

local SRC = os.getenv("INTROSPECT_SOURCE") or "."
if SRC:sub(1, 1) ~= "/" then SRC = os.getenv("PWD") .. "/" .. SRC end
local BIN = P.BIN:sub(1, 1) == "/" and P.BIN or (os.getenv("PWD") .. "/" .. P.BIN)
local CMD = string.format("'%s' '%s/tests/fixtures/standin-finetune.lua'", BIN, SRC)
local ARGS = "--contexts=20 --models=sim-large --trials=20 --reports=3 --poll-interval=0.2 --curricula=all_100"
  .. " --slurm-template=" .. SRC .. "/experiments/slurm/finetune.sbatch"

describe("paper.lua --backend=local on a one-node Slurm cluster", function()
  local cluster, why = require("servers.slurm_cluster").start()
  if not cluster then
    it("needs the Slurm test cluster", function()
      require("lib.skip").missing("slurm_spec", "the Slurm test cluster did not start: " .. tostring(why))
    end)
    return
  end
  local server = standins.start("vllm", {})
  teardown(function()
    server:stop()
    cluster:stop()
  end)

  local function env(extra)
    return cluster.env .. " INTROSPECT_LOCAL_BASE_URL=" .. server.url .. " " .. (extra or "")
  end
  local function cmdline(out)
    return string.format("'%s' experiments/paper.lua %s --backend=local --out=%s --finetune-command=\"%s\"",
      P.BIN, ARGS, out, CMD)
  end
  -- jobs the cluster knows (running and finished) whose name matches
  local function jobs(pattern)
    local out = cluster:run("squeue -h -t all -o '%i|%j|%T'")
    local list = {}
    for id, name, state in out:gmatch("(%d+)|([^|\n]+)|(%u+)") do
      if name:match(pattern) then list[#list + 1] = { id = id, name = name, state = state } end
    end
    return list
  end
  local function wait_for(fn, seconds)
    local deadline = sys.now() + seconds
    while sys.now() < deadline do
      local v = fn()
      if v then return v end
      sys.sleep(0.1)
    end
    return nil
  end
  local function job_json(out)
    local text = util.read_file(out .. "/finetune/sim-large_instill/job.json")
    return text and cjson.decode(text)
  end

  -- start_running(out, seconds) -> pid, job: paper.lua in the background, once its instill job
  -- runs on the cluster (the stand-in command taking `seconds`)
  local function start_running(out, seconds)
    local p = io.popen(string.format("%s %s >%s.log 2>&1 & echo $!",
      env("STANDIN_FINETUNE_SECONDS=" .. seconds), cmdline(out), out))
    local pid = tonumber(p:read("l"))
    p:close()
    local job = wait_for(function()
      local j = job_json(out)
      return j and cluster:run("squeue -h -j " .. j.slurm_id .. " -o %T"):match("RUNNING") and j or nil
    end, 60)
    assert.truthy(job, util.read_file(out .. ".log"))
    return pid, job
  end

  it("runs two stages as Slurm jobs, with the subject's pattern", function()
    local out = P.tmpdir()
    local before = #jobs("%-instill$")
    local text, code = P.run(string.format("%s --backend=local --out=%s --finetune-command=\"%s\"", ARGS, out, CMD),
      env())
    assert.are.equal(0, code, text)
    local r = P.read_json(out .. "/summary.json").models["sim-large"]
    assert.is_true(r.learned_vs_target.r > 0.6, text)
    assert.is_true(r.reports.instilled.slope > r.reports.base.slope + 0.2, text)
    assert.are.equal(before + 1, #jobs("%-instill$"))
    assert.are.equal(1, #jobs("%-itrained_all_100$"))
    assert.truthy(job_json(out).slurm_id)
    os.execute("rm -rf '" .. out .. "'")
  end)

  it("after a SIGKILL of paper.lua while its job runs, a re-run finds the job and does not resubmit", function()
    local out = P.tmpdir()
    local pid, job = start_running(out, 4)
    sys.kill(pid, "KILL")
    local text, code = P.run(string.format("%s --backend=local --out=%s --finetune-command=\"%s\"", ARGS, out, CMD),
      env())
    assert.are.equal(0, code, text)
    assert.are.equal(job.slurm_id, job_json(out).slurm_id)
    assert.are.equal(1, #jobs("^" .. job.name:gsub("%-", "%%-") .. "$"))
    os.execute("rm -rf '" .. out .. "' '" .. out .. ".log'")
  end)

  it("Ctrl-C cancels the running job", function()
    local out = P.tmpdir()
    local pid, job = start_running(out, 60)
    sys.kill(pid, "INT")
    assert.truthy(wait_for(function() return not sys.kill(pid, 0) or nil end, 30))
    local state = wait_for(function()
      local st = cluster:run("scontrol show job " .. job.slurm_id):match("JobState=(%u+)")
      return st ~= "RUNNING" and st or nil
    end, 30)
    assert.are.equal("CANCELLED", state)
    local log = util.read_file(out .. ".log")
    assert.truthy(log:find("cancelled fine-tuning job " .. job.slurm_id, 1, true), log)
    os.execute("rm -rf '" .. out .. "' '" .. out .. ".log'")
  end)

  it("a failed job's state and log tail reach the user in one line", function()
    local out = P.tmpdir()
    local text, code = P.run(string.format("%s --backend=local --out=%s --finetune-command=\"%s\"", ARGS, out, CMD),
      env("STANDIN_FINETUNE_FAIL=exit"))
    assert.are.equal(1, code, text)
    local line = text:match("paper%.lua: ([^\n]*)")
    assert.truthy(line:find("exit status 1", 1, true), line)
    assert.truthy(line:find("CUDA out of memory", 1, true), line)
    assert.truthy(line:find("Slurm job %d+"), line)
    os.execute("rm -rf '" .. out .. "'")
  end)
end)
