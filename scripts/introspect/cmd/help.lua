-- `introspect help`: the command line and the subcommands that exist.
local M = { summary = "this help" }

-- commands() -> sorted list of {name=, summary=} for every introspect/cmd/*.lua on the path
function M.commands()
  local found, list = {}, {}
  for template in package.path:gmatch("[^;]+") do
    local dir = template:match("^(.*)/%?%.lua$")
    if dir then
      local p = io.popen("ls '" .. dir .. "/introspect/cmd' 2>/dev/null")
      if p then
        for file in p:lines() do
          local name = file:match("^([%w%-]+)%.lua$")
          if name and not found[name] then
            found[name] = true
            local ok, mod = pcall(require, "introspect.cmd." .. name)
            list[#list + 1] = { name = name, summary = ok and type(mod) == "table" and mod.summary or "" }
          end
        end
        p:close()
      end
    end
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

function M.main()
  local out = {
    "usage: introspect [options] [script [args]]",
    "       introspect COMMAND [args]",
    "",
    "options: -e stat, -l mod, -l g=mod, -i, -v, -E, --, - (as lua5.4)",
    "",
    "commands:",
  }
  for _, c in ipairs(M.commands()) do
    out[#out + 1] = string.format("  %-10s %s", c.name, c.summary)
  end
  out[#out + 1] = ""
  out[#out + 1] = "With no arguments introspect opens the REPL. See docs/host.md."
  io.stdout:write(table.concat(out, "\n"), "\n")
  return 0
end

return M
