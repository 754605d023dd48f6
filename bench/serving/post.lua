-- wrk script: POST the JSON body in the BODY environment variable's file to the path in TARGET_PATH.
local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.path = os.getenv("TARGET_PATH")
wrk.headers["Content-Type"] = "application/json"
f:close()
