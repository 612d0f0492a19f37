-- A fine-tuning command (docs/finetune-command.md, protocol version 1) behind
-- client/finetune.lua's contract. Each stage gets an output directory; the command runs there in
-- the background (a runner: this machine by default, Slurm with client/finetune_slurm.lua) and
-- leaves command.log (its output; "progress: ..." lines are shown), exit_status and, last,
-- metrics.json. A finished stage (metrics.json and exit status 0) is never run again; a running
-- one is found again after the client was killed. With an `adapters` client (a vLLM server
-- started with runtime LoRA updating) each adapter the command produces is loaded with
-- POST /v1/load_lora_adapter and addressed by its name.
local cjson = require("cjson")
local util = require("introspect.core.util")
local sys = require("introspect.sys")

local M = {}

M.PROTOCOL = 1

-- The settings a stage may give a command (docs/finetune-command.md); others are refused in one
-- line before anything runs.
M.SETTINGS = { n_epochs = true, batch_size = true, learning_rate = true, lr_scheduler = true, warmup_ratio = true,
  weight_decay = true, max_grad_norm = true, gradient_accumulation_steps = true, max_seq_length = true,
  lora_r = true, lora_alpha = true, lora_dropout = true, lora_target_modules = true, select_checkpoint = true,
  merge_between_stages = true }

local Provider = {}
Provider.__index = Provider

-- Quotes a word for sh.
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = q

-- The last n lines of a file, joined with " | " (for one-line errors).
local function tail(path, n)
  local text = util.read_file(path) or ""
  local lines = {}
  for l in text:gmatch("[^\n]+") do
    if l:match("%S") then lines[#lines + 1] = l end
  end
  local out = {}
  for i = math.max(1, #lines - n + 1), #lines do out[#out + 1] = lines[i] end
  return table.concat(out, " | ")
end
M.tail = tail

-- The local runner: `setsid sh -c 'CMD > DIR/command.log 2>&1; echo $? > DIR/exit_status' &`, in
-- the current directory (the command's own relative paths work as on the command line).
local LocalRunner = { name = "local" }

function LocalRunner.start(_, job, cmdline)
  local d = q(job.dir)
  local script = string.format("(%s) > %s/command.log 2>&1; echo $? > %s/exit_status.tmp "
    .. "&& mv %s/exit_status.tmp %s/exit_status", cmdline, d, d, d, d)
  local p = assert(io.popen(string.format("setsid sh -c %s </dev/null >/dev/null 2>&1 & echo $!", q(script))))
  local pid = tonumber(p:read("l"))
  p:close()
  if not pid then return nil, "could not start the command" end
  job.pid = pid
  assert(util.write_file_atomic(job.dir .. "/pid", tostring(pid) .. "\n"))
  return job
end

-- state(job) -> "running" | "gone"
function LocalRunner.state(_, job)
  local pid = job.pid or tonumber(util.read_file(job.dir .. "/pid") or "")
  -- a zombie (exited, not yet reaped by its parent) is gone
  local stat = pid and sys.kill(pid, 0) and (util.read_file("/proc/" .. pid .. "/stat") or "")
  if stat and not stat:match("^%d+ %b() Z") then return "running" end
  return "gone"
end

function LocalRunner.find(self, job)
  if self:state(job) == "running" then return job end
  return nil
end

function LocalRunner.cancel(_, job)
  local pid = job.pid or tonumber(util.read_file(job.dir .. "/pid") or "")
  if pid then sys.kill(-pid, "TERM") end   -- the whole session (setsid made pid its leader)
  return true
end

-- new{command=, dir=, adapters=client|nil, runner=nil|runner, adapter_prefix="ix"} -> provider
-- command: the fine-tuning command (a shell word list, e.g. "python3 train.py"); dir: where the
-- stages' output directories go (the run directory's finetune/).
function M.new(opts)
  opts = util.check_options("finetune_command.new", opts, { command = "string", dir = "string", adapters = "table",
    runner = "table", adapter_prefix = "string" })
  assert(opts.command and opts.dir, "finetune_command.new: 'command' and 'dir' are required")
  local runner = opts.runner or LocalRunner
  local dir = opts.dir
  if dir:sub(1, 1) ~= "/" then dir = (os.getenv("PWD") or ".") .. "/" .. dir end
  return setmetatable({ name = runner.name == "local" and "command" or runner.name, command = opts.command,
    dir = dir, adapters = opts.adapters, runner = runner, prefix = opts.adapter_prefix or "ix", offsets = {},
    grace = {},
    capabilities = { fine_tuning = true, from_checkpoint = true, seed = true, metadata = false,
      cancel_on_interrupt = runner.name ~= "local", runtime_adapters = opts.adapters ~= nil,
      hyperparameters = M.SETTINGS } }, Provider)
end

-- The stage's output directory and adapter name.
local function names(self, stage)
  local key = (stage.key or stage.name):gsub("^finetune:", ""):gsub("[^%w%.%-_]", "_")
  local run = stage.run_id and stage.run_id:sub(1, 8) or "run"
  return self.dir .. "/" .. key, (self.prefix .. "-" .. run .. "-" .. stage.name):gsub("[^%w%.%-_]", "-")
end

local function job_of(self, stage)
  local dir, adapter = names(self, stage)
  local base = stage.from and stage.from.job and stage.from.job.model or stage.parent
  return { id = dir, dir = dir, adapter = adapter, model = base, stage = stage.name, runner = self.runner.name }
end

function Provider.preflight() return true end

-- p:prepare(stage): checks the files exist (the command reads them where they are).
function Provider.prepare(_, stage)
  for _, f in ipairs({ stage.files.train, stage.files.validation }) do
    if f and not util.file_exists(f) then error("fine-tuning " .. stage.name .. ": no file " .. f, 0) end
  end
  return stage.files
end

-- p:find(stage) -> a finished or running job of this stage, else nil
function Provider:find(stage)
  local job = job_of(self, stage)
  local status = util.read_file(job.dir .. "/exit_status") or ""
  if status:match("^0%s*$") and util.file_exists(job.dir .. "/metrics.json") then
    return job
  end
  local saved = util.read_file(job.dir .. "/job.json")
  if saved and not util.file_exists(job.dir .. "/exit_status") then
    local ok, j = pcall(cjson.decode, saved)
    if ok and type(j) == "table" and self.runner:find(j) then return j end
  end
  return nil
end

-- The command line of a stage (protocol 1).
function M.command_line(command, stage, job)
  local args = { command, "--protocol=" .. M.PROTOCOL, "--stage=" .. q(stage.name), "--base-model=" .. q(job.model),
    "--training-file=" .. q(stage.files.train) }
  if stage.files.validation then args[#args + 1] = "--validation-file=" .. q(stage.files.validation) end
  if stage.from and stage.from.output then args[#args + 1] = "--from=" .. q(stage.from.output) end
  args[#args + 1] = "--output-dir=" .. q(job.dir)
  args[#args + 1] = "--seed=" .. tostring(stage.seed or 0)
  args[#args + 1] = "--settings=" .. q(job.dir .. "/settings.json")
  return table.concat(args, " ")
end

-- p:create(stage) -> job | nil, err: a fresh output directory, settings.json, the command started.
function Provider:create(stage)
  local job = job_of(self, stage)
  os.execute("rm -rf " .. q(job.dir))
  util.mkdir_p(job.dir)
  local hp = stage.hyperparameters or {}
  local text = next(hp) and cjson.encode(hp) or "{}"
  assert(util.write_file_atomic(job.dir .. "/settings.json", text .. "\n"))
  local started, err = self.runner:start(job, M.command_line(self.command, stage, job))
  if not started then return nil, err end
  assert(util.write_file_atomic(job.dir .. "/job.json", cjson.encode(job)))
  return job
end

-- Reads and checks metrics.json; returns metrics | nil, one-line error.
local function read_metrics(job)
  local path = job.dir .. "/metrics.json"
  local text = util.read_file(path)
  if not text then
    return nil, string.format("the command exited 0 but wrote no metrics file %s (protocol %d: "
      .. "docs/finetune-command.md); its log: %s", path, M.PROTOCOL, tail(job.dir .. "/command.log", 3))
  end
  local ok, m = pcall(cjson.decode, text)
  if not ok or type(m) ~= "table" then return nil, path .. ": not a JSON object" end
  if m.protocol ~= M.PROTOCOL then
    return nil, string.format("%s: protocol %s, introspect speaks %d", path, tostring(m.protocol), M.PROTOCOL)
  end
  if type(m.output) ~= "string" or type(m.epochs) ~= "table" then
    return nil, path .. ": needs 'output' (a path) and 'epochs' (a list)"
  end
  if not util.file_exists(m.output) then return nil, string.format("%s: output %s does not exist", path, m.output) end
  return m
end

-- Loads an adapter into the serving vLLM; returns true | nil, one-line error naming adapter and path.
function M.load_adapter(client, name, path)
  local body = { lora_name = name, lora_path = path }
  local res, err = client:request("POST", "/load_lora_adapter", body, { raw = true })
  if res then return true end
  if tostring(err.message):find("already been loaded", 1, true) then
    local list = client:models() or {}
    for _, m in ipairs(list) do
      if m.id == name and m.root == path then return true end
    end
  end
  local why = tostring(err.message)
  if err.status == 404 and why:find("Not Found", 1, true) then
    why = "the server has no /v1/load_lora_adapter: start vLLM with --enable-lora and "
      .. "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"
  end
  return nil, string.format("loading adapter %s from %s into %s: %s", name, path, client.base_url, why)
end

-- New "progress: " lines of the command's log since the last poll.
local function progress_lines(self, job)
  local text = util.read_file(job.dir .. "/command.log") or ""
  local from = self.offsets[job.dir] or 0
  self.offsets[job.dir] = #text
  local out = {}
  for line in text:sub(from + 1):gmatch("[^\n]+") do
    local p = line:match("^progress:%s*(.*)$")
    if p then out[#out + 1] = p end
  end
  return out
end

-- p:poll(job) -> snap
function Provider:poll(job)
  local events = progress_lines(self, job)
  local snap = { events = events, progress = events[#events] }
  local status = util.read_file(job.dir .. "/exit_status")
  if not status then
    local st, why = self.runner:state(job)
    status = util.read_file(job.dir .. "/exit_status")   -- written just after the first read?
    if not status then
      if st == "queued" or st == "running" then
        self.grace[job.dir] = 0
        snap.status, snap.detail = st, st
        return snap
      end
      -- ended without an exit status: give a shared file system a few polls to show it
      self.grace[job.dir] = (self.grace[job.dir] or 0) + 1
      if self.grace[job.dir] <= 3 then
        snap.status, snap.detail = "running", "finishing"
        return snap
      end
      snap.status, snap.detail = "failed", st == "done" and tostring(why) or "died"
      snap.error = "the command stopped without an exit status" .. (why and (" (" .. why .. ")") or "")
        .. "; its log: " .. tail(job.dir .. "/command.log", 3)
      return snap
    end
  end
  local code = tonumber(status)
  if code ~= 0 then
    local why = self.runner.reason and self.runner:reason(job)
    snap.status, snap.detail = "failed", "exit status " .. tostring(code)
    snap.error = string.format("the command failed (exit status %s%s); its log: %s", tostring(code),
      why and (", " .. why) or "", tail(job.dir .. "/command.log", 3))
    return snap
  end
  local m, merr = read_metrics(job)
  if not m then
    snap.status, snap.detail, snap.error = "failed", "no metrics", merr
    return snap
  end
  snap.metrics, snap.output = m, m.output
  snap.losses = {}
  for _, e in ipairs(m.epochs) do
    if type(e) == "table" then
      snap.losses[#snap.losses + 1] = { step = e.epoch, train_loss = type(e.train_loss) == "number" and e.train_loss
        or nil, valid_loss = type(e.val_loss) == "number" and e.val_loss or nil }
    end
  end
  snap.hyperparameters = type(m.hyperparameters) == "table" and m.hyperparameters or nil
  snap.trained_tokens = type(m.trained_tokens) == "number" and m.trained_tokens or nil
  if type(m.served_model) == "string" then
    snap.model = m.served_model
  elseif self.adapters and m.kind ~= "merged" then
    local ok, lerr = M.load_adapter(self.adapters, job.adapter, m.output)
    if not ok then
      snap.status, snap.detail, snap.error = "failed", "adapter not loaded", lerr
      return snap
    end
    snap.model = job.adapter
  elseif m.kind == "merged" then
    snap.status, snap.detail = "failed", "merged model not served"
    snap.error = string.format("the command produced merged weights at %s: serve them and name the model in "
      .. "metrics.json's served_model", m.output)
    return snap
  else
    snap.model = m.output
  end
  snap.status, snap.detail = "succeeded", "finished"
  return snap
end

function Provider:cancel(job)
  return self.runner:cancel(job)
end

return M
