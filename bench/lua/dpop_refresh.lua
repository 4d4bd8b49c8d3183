-- Refresh rotation with DPoP: as refresh.lua, but every session is bound to a key of its own and every request
-- carries a fresh proof of that key (bench/run.py signs them ahead: Lua cannot). BENCH_TOKENS has one
-- "thumbprint refresh-token" line per session, BENCH_PROOFS one "thumbprint proof" line per proof. A
-- response's session is found by the cnf.jkt of its access token, so its successor goes on with that
-- session's key and proofs.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
local common = require("common")

local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

local queue, proofs, next_proof, mine, auth = {}, {}, {}, {}, nil
function init(args)
  local count = tonumber(os.getenv("BENCH_THREADS"))
  for i, line in ipairs(common.lines(os.getenv("BENCH_TOKENS"))) do
    local jkt, token = line:match("^(%S+) (%S+)$")
    if (i - 1) % count == index then
      queue[#queue + 1] = {jkt, token}
      mine[jkt], proofs[jkt], next_proof[jkt] = true, {}, 1
    end
  end
  for line in common.read(os.getenv("BENCH_PROOFS")):gmatch("[^\n]+") do
    local jkt, proof = line:match("^(%S+) (%S+)$")
    if mine[jkt] then local list = proofs[jkt]; list[#list + 1] = proof end
  end
  wrk.method = "POST"
  auth = os.getenv("BENCH_AUTH")
end

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local values = {}
for i = 1, #alphabet do values[alphabet:byte(i)] = i - 1 end

-- base64url without padding to a string.
local function decode(text)
  local out, n = {}, #text
  for i = 1, n, 4 do
    local a, b, c, d = values[text:byte(i)], values[text:byte(i + 1) or 0], values[text:byte(i + 2) or 0], values[text:byte(i + 3) or 0]
    local v = a * 262144 + (b or 0) * 4096 + (c or 0) * 64 + (d or 0)
    out[#out + 1] = string.char(math.floor(v / 65536))
    if c then out[#out + 1] = string.char(math.floor(v / 256) % 256) end
    if d then out[#out + 1] = string.char(v % 256) end
  end
  return table.concat(out)
end

local last, reported
function request()
  local entry = table.remove(queue, 1) or last or {"none", "none"}
  local jkt, token = entry[1], entry[2]
  local list, position = proofs[jkt] or {}, next_proof[jkt] or 1
  next_proof[jkt] = position + 1
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", Authorization = auth, DPoP = list[position] or "out-of-proofs"}
  return wrk.format(nil, os.getenv("BENCH_PATH"), headers, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  local payload = body:match('"access_token":"[^.]+%.([^.]+)%.')
  -- cnf is the access token's last claim: decoding the payload's last 96 characters (from a multiple of 4)
  -- finds it, at a fifth of the cost of the whole payload (wrk shares the machine with the server).
  local tail = payload and payload:sub(math.max(1, #payload - 95 - (#payload - 96) % 4))
  local jkt = tail and decode(tail):match('"jkt":"([^"]+)"')
  if token and jkt then
    last = {jkt, token}
    queue[#queue + 1] = last
  elseif not reported then
    reported = true
    io.stderr:write("refresh failed: " .. status .. " " .. body .. "\n")
  end
end

done = common.done
