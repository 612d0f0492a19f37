-- `introspect version`: versions of introspect, Lua and the libraries it was built against.
local M = { summary = "print versions and where the Lua library is loaded from" }

function M.main(args)
  local options = require "introspect.core.options"
  local opts = options.parse(args, {
    { "json", "boolean", false, "print the versions as a JSON object" },
  }, { usage = "introspect version [--json]", program = "introspect version" })
  local ok, host = pcall(require, "introspect.host")
  if not ok then
    io.stderr:write("introspect version: needs the introspect host executable\n")
    return 1
  end
  local text, info = host.version()
  info.library_dir = host.library_dir
  if opts.json then
    io.stdout:write(require("cjson").encode(info), "\n")
  else
    io.stdout:write(text, "\n")
    io.stdout:write("Lua library: ", tostring(host.library_dir), "\n")
    io.stdout:write("bindings: ", info.bindings, "\n")
  end
  return 0
end

return M
