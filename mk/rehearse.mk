# Rehearsal of the demo (issue 11). Included by the root Makefile.
REHEARSAL_OUT ?= benchmarks/records/$(shell date -u +%F)-2core/rehearsal

.PHONY: rehearse
rehearse: install system-deps corpus ## One real-time auto cycle (~13 min) on the local stack, H200 70B profile -> report in REHEARSAL_OUT (QUICK=1: 35 s smoke run)
	$(RUN) python -m demo_bench.rehearsal --out $(if $(QUICK),build/rehearsal-quick --quick --speed 10,$(REHEARSAL_OUT) --speed $(SPEED))
