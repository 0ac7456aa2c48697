# Why disaggregation: the demo script on four layouts of the same GPUs.
COMPARE_OUT ?= benchmarks/records/$(shell date -u +%F)-2core/compare

.PHONY: compare
compare: install system-deps corpus ## Same script, same seed on 4 layouts (aggregated, static 2P+3D, controller, KEDA) -> report in COMPARE_OUT (~4 x 13 min at SPEED=1; QUICK=1: CI smoke run)
	$(RUN) python -m demo_bench.compare $(if $(QUICK),--quick --speed 10 --out build/compare-quick,--speed $(SPEED) --out $(COMPARE_OUT))
