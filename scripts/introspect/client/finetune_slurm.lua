-- The fine-tuning command (client/finetune_command.lua, protocol 1) run as Slurm batch jobs:
-- each stage is a job script rendered from a template the user can edit (partition, GPUs, time,
-- modules; default experiments/slurm/finetune.sbatch), submitted with `sbatch`, named
-- "<prefix>-<run>-<stage>" so a client that was killed finds it again (`squeue --name`), polled
-- with `squeue` then `sacct` (or `scontrol show job` where accounting is off), cancelled with
-- `scancel` on Ctrl-C. A failed job's state, reason and log tail reach the user in one line.
-- The output directory must be on a file system the compute nodes share.
local util = require("introspect.core.util")
local command = require("introspect.client.finetune_command")

local M = {}

local q = command.quote

-- Runs a shell command; returns its output, success.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

-- render(template_text, vars) -> script. {{name}} is replaced by vars[name]; an unknown
-- placeholder raises naming it.
function M.render(text, vars)
  return (text:gsub("{{%s*([%w_]+)%s*}}", function(k)
    if vars[k] == nil then error("slurm job template: unknown placeholder {{" .. k .. "}}", 0) end
    return tostring(vars[k])
  end))
end

-- A runner for finetune_command: start/state/find/cancel/reason with Slurm's commands.
local function runner(opts)
  local r = { name = "slurm", template = opts.template, bin = opts.bin or "" }
  local function tool(name) return r.bin .. name end

  function r.start(_, job, cmdline)
    local text, err = util.read_file(r.template)
    if not text then return nil, "slurm job template " .. r.template .. ": " .. tostring(err) end
    job.name = job.adapter
    local script = M.render(text, { job_name = job.name, output_dir = job.dir, command = cmdline })
    assert(util.write_file_atomic(job.dir .. "/job.sbatch", script))
    local out, ok = sh(string.format("%s --parsable --job-name=%s --output=%s %s", tool("sbatch"), q(job.name),
      q(job.dir .. "/slurm-%j.log"), q(job.dir .. "/job.sbatch")))
    local id = out:match("^(%d+)")
    if not ok or not id then
      return nil, "sbatch refused the job: " .. out:gsub("%s+$", ""):gsub("\n", " | ")
    end
    job.id, job.slurm_id = id, id
    return job
  end

  -- state(job) -> "queued" | "running" | "done" | "gone", reason
  function r.state(_, job)
    local out = sh(string.format("%s -h -j %s -o '%%T|%%r'", tool("squeue"), job.slurm_id))
    local st, reason = out:match("^(%u[%u_]*)|([^\n]*)")
    if st == "PENDING" or st == "CONFIGURING" then return "queued", reason end
    if st then return "running", reason end
    local info = r:info(job)
    if info then
      if info.state == "PENDING" then return "queued", info.reason end
      if info.state == "RUNNING" or info.state == "COMPLETING" then return "running", info.reason end
      return "done", info.state .. (info.reason and info.reason ~= "None" and (" " .. info.reason) or "")
    end
    return "gone"
  end

  -- info(job) -> {state=, reason=, exit=} from sacct, else scontrol, else nil
  function r.info(_, job)
    local out, ok = sh(string.format("%s -n -X -P -j %s -o State,ExitCode,Reason", tool("sacct"), job.slurm_id))
    local st, exit, reason = out:match("^(%u[%u_]*)[^|]*|([^|]*)|([^\n]*)")
    if ok and st then return { state = st, exit = exit, reason = reason } end
    out = sh(string.format("%s show job %s", tool("scontrol"), job.slurm_id))
    st = out:match("JobState=(%S+)")
    if not st then return nil end
    return { state = st, reason = out:match("Reason=(%S+)"), exit = out:match("ExitCode=(%S+)") }
  end

  function r.reason(_, job)
    local info = r:info(job)
    local log = command.tail(job.dir .. "/slurm-" .. tostring(job.slurm_id) .. ".log", 2)
    local parts = { "Slurm job " .. tostring(job.slurm_id) }
    if info then
      parts[#parts + 1] = info.state .. (info.reason and info.reason ~= "None" and (" " .. info.reason) or "")
    end
    if log ~= "" then parts[#parts + 1] = "slurm log: " .. log end
    return table.concat(parts, ", ")
  end

  -- find(job) -> the job (with its Slurm id) when a job of this name is queued or running
  function r.find(_, job)
    local out = sh(string.format("%s -h --name=%s -o '%%i'", tool("squeue"), q(job.name or job.adapter)))
    local id = out:match("^(%d+)")
    if not id then return nil end
    job.id, job.slurm_id = id, id
    return job
  end

  function r.cancel(_, job)
    local out, ok = sh(string.format("%s %s", tool("scancel"), job.slurm_id))
    if not ok then return nil, "scancel " .. tostring(job.slurm_id) .. ": " .. out end
    return true
  end

  return r
end
M.runner = runner

-- new{command=, dir=, template=, adapters=, adapter_prefix=} -> provider
function M.new(opts)
  opts = util.check_options("finetune_slurm.new", opts, { command = "string", dir = "string", template = "string",
    adapters = "table", adapter_prefix = "string" })
  assert(opts.template, "finetune_slurm.new: 'template' is required")
  return command.new({ command = opts.command, dir = opts.dir, adapters = opts.adapters,
    adapter_prefix = opts.adapter_prefix, runner = runner({ template = opts.template }) })
end

return M
