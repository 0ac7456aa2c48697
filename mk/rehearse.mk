# Rehearsal of the demo. Included by the root Makefile.
REHEARSAL_OUT ?= benchmarks/records/$(shell date -u +%F)-2core/rehearsal
REHEARSAL_ARGS = $(if $(QUICK),--quick --speed 10,--speed $(SPEED)) $(if $(MANUAL),--manual) $(if $(PROFILE),--profile-app)
REHEARSAL_DIR = $(if $(QUICK),build/rehearsal-quick,$(REHEARSAL_OUT))$(if $(MANUAL),/manual)

.PHONY: rehearse
rehearse: install system-deps corpus ## One real-time auto cycle (~13 min) on the local stack, H200 70B profile -> report in REHEARSAL_OUT (MANUAL=1: KEDA-driven stress phases; PROFILE=1: the app's CPU per part by py-spy; QUICK=1: 35 s smoke run)
	$(RUN) python -m demo_bench.rehearsal --out $(REHEARSAL_DIR) $(REHEARSAL_ARGS)
