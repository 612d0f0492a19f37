-- Starts and stops Debian's nginx on a free loopback port for tests and benchmarks (a port taken
-- between choosing and binding it is retried with another).
-- nginx.start{body=, tls=true} -> server {port=, url=, ca_file=, pid=, stop=} | nil, reason
-- body: the fixed JSON every request gets; tls: serve HTTPS with HTTP/2 and a fresh self-signed
-- certificate for 127.0.0.1 (ca_file is that certificate).
local M = {}

M.NGINX = "/usr/sbin/nginx"
local PY = "/usr/bin/python3"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok
end

-- a free loopback port (bind to 0, read it back, release it)
local function free_port()
  local p = io.popen(PY .. [[ -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));]]
    .. [[print(s.getsockname()[1])"]])
  local port = tonumber(p:read("l"))
  p:close()
  return port
end

local Server = {}
Server.__index = Server

-- start_on(opts, port) -> server | nil, reason, in_use (true when the port was taken meanwhile)
local function start_on(opts, port)
  local dir = os.tmpname()
  os.remove(dir)
  assert(sh("mkdir -p " .. dir))
  local listen = string.format("listen 127.0.0.1:%d backlog=4096;", port)
  local tls = ""
  if opts.tls then
    if not sh(string.format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        .. "-keyout %s/key.pem -out %s/cert.pem -days 1 -subj /CN=127.0.0.1 "
        .. "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", dir, dir)) then
      sh("rm -rf " .. dir)
      return nil, "openssl could not make a certificate"
    end
    listen = string.format("listen 127.0.0.1:%d ssl http2 backlog=4096;", port)
    tls = string.format("ssl_certificate %s/cert.pem; ssl_certificate_key %s/key.pem;", dir, dir)
  end
  local conf = string.format([[
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %s/body;
  proxy_temp_path %s/proxy;
  fastcgi_temp_path %s/fastcgi;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {
    %s
    %s
    location / {
      default_type application/json;
      return 200 '%s';
    }
  }
}
]], dir, dir, dir, dir, dir, dir, dir, listen, tls, opts.body)
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(conf)
  f:close()
  if not sh(string.format("%s -p %s -c %s/nginx.conf -e %s/error.log 2>/dev/null", M.NGINX, dir, dir, dir)) then
    local ef = io.open(dir .. "/error.log")
    local log = ef and ef:read("a") or ""
    if ef then ef:close() end
    sh("rm -rf " .. dir)
    return nil, "nginx did not start: " .. log:match("[^\n]*"), log:find("in use", 1, true) ~= nil
  end
  local s = setmetatable({ port = port, dir = dir }, Server)
  s.url = string.format("%s://127.0.0.1:%d", opts.tls and "https" or "http", port)
  if opts.tls then s.ca_file = dir .. "/cert.pem" end
  -- wait until it accepts connections
  for _ = 1, 100 do
    if sh(string.format("%s -c \"import socket;socket.create_connection(('127.0.0.1',%d),0.1)\" 2>/dev/null",
      PY, port)) then return s end
  end
  s:stop()
  return nil, "nginx did not listen on port " .. port
end

-- nginx cannot listen on port 0 (it refuses "invalid port"), so a free port is chosen by
-- binding port 0 and reading it back; when another process takes it before nginx binds it,
-- nginx fails with "Address already in use" and another port is tried (up to 20 times).
function M.start(opts)
  if not io.open(M.NGINX, "rb") then return nil, M.NGINX .. " absent (apt-get install nginx-light)" end
  local s, why, in_use
  for _ = 1, 20 do
    s, why, in_use = start_on(opts, free_port())
    if s or not in_use then return s, why end
  end
  return nil, why
end

-- server:pid() -> the master process's id (from its pid file) | nil
function Server:pid()
  local pf = io.open(self.dir .. "/nginx.pid")
  if not pf then return nil end
  local pid = pf:read("n")
  pf:close()
  return pid and math.tointeger(pid)
end

function Server:stop()
  local pid = self:pid()
  if pid then sh("kill " .. pid .. " 2>/dev/null") end
  sh("sleep 0.1; rm -rf " .. self.dir)
end

return M
