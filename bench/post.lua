-- wrk script: POST one ~1 KiB news item per request to /api/v1/items.
-- Token from the EDUNET_TOKEN environment variable. At the end prints
-- `metric value unit` lines: accepted items, items/s, errors, latency p50/p99.
local token = os.getenv("EDUNET_TOKEN") or ""
local size = tonumber(os.getenv("EDUNET_BODY_BYTES") or "1024")

local head = '{"kind":"news","title":"Bản tin thử nghiệm hiệu năng","summary":"Tin thử nghiệm","body":"'
local tail = '"}'
wrk.method = "POST"
wrk.path = "/api/v1/items"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = head .. string.rep("x", math.max(0, size - #head - #tail)) .. tail

done = function(summary, latency, requests)
	local bad = summary.errors.status + summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout
	local ok = summary.requests - summary.errors.status
	io.write(string.format("wrk_requests %d requests\n", summary.requests))
	io.write(string.format("wrk_accepted %d items\n", ok))
	io.write(string.format("wrk_errors %d responses\n", bad))
	io.write(string.format("wrk_items_per_s %.0f items/s\n", ok / (summary.duration / 1e6)))
	io.write(string.format("wrk_latency_p50 %.2f ms\n", latency:percentile(50) / 1000))
	io.write(string.format("wrk_latency_p99 %.2f ms\n", latency:percentile(99) / 1000))
end
