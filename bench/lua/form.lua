-- A fixed form POST (client_credentials, password, introspection): body from BENCH_BODY_FILE, client
-- authentication from BENCH_AUTH.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
local common = require("common")

wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH")
wrk.body = common.read(os.getenv("BENCH_BODY_FILE"))
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")

done = common.done
