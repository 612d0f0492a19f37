-- `introspect store PATH`: summarise a response store; --export writes it as JSONL.
local M = { summary = "summarise a response store (SQLite); --export=FILE writes JSONL" }

function M.main(args)
  local options = require "introspect.core.options"
  local opts = options.parse(args, {
    { "export", "string", nil, "write every record as one JSON object per line to this file" },
    { "run", "string", nil, "only records of this run label (with --export and the summary)" },
  }, { usage = "introspect store PATH [--export=FILE] [--run=LABEL]", program = "introspect store" })
  local path = opts._args[1]
  if not path or opts._args[2] then
    io.stderr:write("usage: introspect store PATH [--export=FILE] [--run=LABEL]\n")
    return 2
  end
  local util = require "introspect.core.util"
  if not util.file_exists(path) then
    io.stderr:write("introspect store: " .. path .. ": no such file\n")
    return 1
  end
  local store = require "introspect.client.store"
  local st, err = store.open(path)
  if not st then
    io.stderr:write("introspect store: " .. err .. "\n")
    return 1
  end
  local where, params = "", {}
  if opts.run then where, params = " WHERE run = ?", { opts.run } end
  local rows = assert(st.db:rows("SELECT model, ok, count(*) AS n, sum(prompt_tokens) AS input, "
    .. "sum(completion_tokens) AS output, sum(cost) AS cost FROM responses" .. where
    .. " GROUP BY model, ok ORDER BY model, ok DESC", table.unpack(params)))
  io.stdout:write(string.format("%s: %d record groups%s\n", path, #rows,
    opts.run and (" for run " .. opts.run) or ""))
  for _, r in ipairs(rows) do
    io.stdout:write(string.format("  %-40s %-6s %8d requests %10d in %9d out  $%.4f\n",
      tostring(r.model), r.ok == 1 and "ok" or "errors", r.n, r.input or 0, r.output or 0, r.cost or 0))
  end
  if opts.export then
    local n, eerr = st:export_jsonl(opts.export, { run = opts.run })
    if not n then
      io.stderr:write("introspect store: " .. tostring(eerr) .. "\n")
      st:close()
      return 1
    end
    io.stdout:write(string.format("exported %d records to %s\n", n, opts.export))
  end
  st:close()
  return 0
end

return M
