-- Deterministic hashing for the simulated subject: every "random" quantity of the subject is a
-- pure function of a 64-bit key built from the profile seed, the context text, the prompt and a
-- sample index. No global random state is read or written.
local M = {}

local simcore = require "introspect.simcore"
local log, sqrt, cos, pi = math.log, math.sqrt, math.cos, math.pi

-- mix(z) -> integer: the splitmix64 finalizer (a bijective 64-bit mixer).
local function mix(z)
  z = (z ~ (z >> 30)) * -4658895280553007687   -- 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * -7723592293110705685   -- 0x94d049bb133111eb
  return z ~ (z >> 31)
end
M.mix = mix

-- combine(h, v) -> integer: folds the integer v into the running hash h.
local function combine(h, v)
  return mix(h ~ (v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)))
end
M.combine = combine

-- string(s, seed) -> integer: an FNV-style hash of s taken 8 bytes at a time, then mixed
-- (introspect.simcore.hash: the same function in C).
M.string = simcore.hash

-- uniform(h) -> number in (0, 1), from the top 53 bits of h.
local function uniform(h)
  return ((h >> 11) + 0.5) * 1.1102230246251565e-16   -- 2^-53
end
M.uniform = uniform

-- normal(h) -> standard normal variate (Box-Muller on two values derived from h).
function M.normal(h)
  local u1 = uniform(mix(h ~ 0x51ed27))
  local u2 = uniform(mix(h ~ 0x2545f491))
  return sqrt(-2 * log(u1)) * cos(2 * pi * u2)
end

-- logistic(h) -> standard logistic variate (location 0, scale 1).
function M.logistic(h)
  local u = uniform(mix(h ~ 0x6a09e667))
  return log(u / (1 - u))
end

-- hex(h, digits) -> lower-case hex text of the low `digits` (1-16, default 16) hex digits of h
-- (for ids; introspect.simcore.hex: string.format("%016x", h):sub(-digits) in C).
M.hex = simcore.hex

return M
