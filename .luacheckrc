-- luacheck configuration: Lua 5.4, no globals in library code.
std = "lua54"
max_line_length = 120
exclude_files = { "build/**", "build-*/**", "runs/**", "**/node_modules/**", ".git/**" }
files["tests/**/*_spec.lua"] = { std = "+busted" }
files["tests/spec/**"] = { std = "+busted" }
