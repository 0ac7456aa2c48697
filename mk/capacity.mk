# Capacity at SLO per GPU: arrival-rate bisection through dynamo.replay (AIS timing),
# aggregated vs disaggregated at 5 and 8 GPUs, with AIConfigurator's verdict beside it.
CAPACITY_OUT ?= benchmarks/records/$(shell date -u +%F)-2core/capacity

.PHONY: capacity
capacity: install corpus ## Highest rate at >=90 % SLO attainment per GPU, agg vs disagg, each preset + AIConfigurator's verdict -> CAPACITY_OUT (~40 min on a busy 2-core box; CAPACITY_ARGS=--preset ID)
	$(RUN) python -m demo_bench.capacity --duration-s 45 --jobs 2 --out $(CAPACITY_OUT) $(CAPACITY_ARGS)
