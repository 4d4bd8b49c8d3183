-- A GET of BENCH_PATH (the JWKS).
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
local common = require("common")
wrk.path = os.getenv("BENCH_PATH")
done = common.done
