-- `introspect repl`: the interactive prompt (the same as running introspect with no script).
local M = { summary = "interactive prompt with the introspect library as `ix`" }

function M.main(args)
  if #args > 0 then
    io.stderr:write("usage: introspect repl\n")
    return 2
  end
  local ok, host = pcall(require, "introspect.host")
  if not ok then
    io.stderr:write("introspect repl: needs the introspect host executable\n")
    return 1
  end
  host.repl()
  return 0
end

return M
