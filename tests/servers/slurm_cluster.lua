-- A one-node Slurm cluster for tests, configured and started here as root in a private
-- directory: its own munged (private socket and key), slurmctld and slurmd on free non-default
-- ports, with StateSaveLocation and SlurmdSpoolDir inside the directory, so nothing else on the
-- machine is touched or collides. Debian's slurm-wlm and munge provide the daemons.
--   local cluster, why = slurm_cluster.start()   -- nil, reason where it cannot start
--   cluster.env   -- "SLURM_CONF=..." for the commands of a test
--   cluster:stop()
local util = require("introspect.core.util")
local sys = require("introspect.sys")

local M = {}

local Cluster = {}
Cluster.__index = Cluster

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

-- A free loopback TCP port (bound, read back, released).
local function free_port()
  local out = sh("/usr/bin/python3 -c \"import socket;s=socket.socket();s.bind(('127.0.0.1',0));"
    .. "print(s.getsockname()[1])\"")
  return tonumber(out:match("%d+"))
end

local function pid_of(path) return tonumber(util.read_file(path) or "") end

-- Whether a process is alive (a zombie waiting for its parent is not).
local function alive(pid)
  if not sys.kill(pid, 0) then return false end
  local stat = util.read_file("/proc/" .. pid .. "/stat") or ""
  return not stat:match("^%d+ %b() Z")
end

-- start() -> cluster | nil, reason
function M.start()
  for _, b in ipairs({ "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch" }) do
    if not util.file_exists(b) then return nil, b .. " is not installed (Debian packages slurm-wlm, munge)" end
  end
  local uid = sh("id -u"):match("%d+")
  if uid ~= "0" then return nil, "the test cluster's daemons must be started as root" end
  local dir = os.tmpname()
  os.remove(dir)
  for _, d in ipairs({ "", "/state", "/spool" }) do util.mkdir_p(dir .. d) end
  local self = setmetatable({ dir = dir, conf = dir .. "/slurm.conf" }, Cluster)
  self.env = "SLURM_CONF=" .. self.conf
  local key = dir .. "/munge.key"
  sh(string.format("dd if=/dev/urandom of=%s bs=1024 count=1 status=none && chmod 400 %s", key, key))
  local out, ok = sh(string.format("/usr/sbin/munged --force --socket=%s/munge.sock --key-file=%s "
    .. "--pid-file=%s/munged.pid --log-file=%s/munged.log --seed-file=%s/munge.seed", dir, key, dir, dir, dir))
  if not ok then self:stop() return nil, "munged did not start: " .. out end
  local host = sh("hostname -s"):match("%S+")
  local ctld_port, d_port = free_port(), free_port()
  local conf = {
    "ClusterName=introspect-test", "SlurmctldHost=" .. host .. "(127.0.0.1)",
    "SlurmctldPort=" .. ctld_port, "SlurmdPort=" .. d_port,
    "AuthType=auth/munge", "CredType=cred/munge", "AuthInfo=socket=" .. dir .. "/munge.sock",
    "StateSaveLocation=" .. dir .. "/state", "SlurmdSpoolDir=" .. dir .. "/spool",
    "SlurmctldPidFile=" .. dir .. "/slurmctld.pid", "SlurmdPidFile=" .. dir .. "/slurmd.pid",
    "SlurmctldLogFile=" .. dir .. "/slurmctld.log", "SlurmdLogFile=" .. dir .. "/slurmd.log",
    "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SchedulerType=sched/builtin",
    "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "ReturnToService=2",
    "SlurmUser=root", "SlurmdUser=root", "JobCompType=jobcomp/none",
    "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none",
    "MpiDefault=none", "MinJobAge=600", "KillWait=2",
    "NodeName=" .. host .. " NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN",
    "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
  }
  assert(util.write_file_atomic(self.conf, table.concat(conf, "\n") .. "\n"))
  out, ok = sh(string.format("/usr/sbin/slurmctld -f %s", self.conf))
  if not ok then self:stop() return nil, "slurmctld did not start: " .. out end
  out, ok = sh(string.format("/usr/sbin/slurmd -f %s", self.conf))
  if not ok then self:stop() return nil, "slurmd did not start: " .. out end
  local deadline = sys.now() + 30
  while sys.now() < deadline do
    local info = sh(self.env .. " sinfo -h -o %t")
    if info:match("^idle") then return self end
    sys.sleep(0.2)
  end
  local why = "the node did not become idle: " .. (util.read_file(dir .. "/slurmctld.log") or ""):sub(-400)
  self:stop()
  return nil, why
end

-- cluster:run(cmd) -> output, ok of a Slurm command against this cluster
function Cluster:run(cmd)
  return sh(self.env .. " " .. cmd)
end

-- cluster:stop(): stops the daemons this cluster started (by their pid files) and removes it.
function Cluster:stop()
  for _, name in ipairs({ "slurmd", "slurmctld", "munged" }) do
    local pid = pid_of(self.dir .. "/" .. name .. ".pid")
    if pid then sys.kill(pid, "TERM") end
  end
  local deadline = sys.now() + 10
  for _, name in ipairs({ "slurmd", "slurmctld", "munged" }) do
    local pid = pid_of(self.dir .. "/" .. name .. ".pid")
    while pid and sys.now() < deadline and alive(pid) do sys.sleep(0.1) end
  end
  os.execute("rm -rf '" .. self.dir .. "'")
end

return M
