# Client benchmark targets (owner: loadbench). Included by the root Makefile.
AIPERF_VENV ?= build/aiperf-venv

.PHONY: bench-aiperf
bench-aiperf: install ## Build AIPerf's own venv (pinned, apart from ai-dynamo's pins) for the client benchmark
	$(RUN) python -m demo_bench.aiperf_runner $(AIPERF_VENV)

.PHONY: bench-client
bench-client: install system-deps bench-aiperf ## Client benchmark only: loadgen vs AIPerf, added TTFT, capacity (QUICK=1: smoke run)
	mkdir -p build/bench
	$(RUN) python -m demo_bench.run --out build/bench --only client $(if $(QUICK),--quick)
