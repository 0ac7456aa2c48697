# Sizing: every preset replayed with dynamo.replay at every pool split (owner: profiles).

.PHONY: sizing
sizing: install corpus ## Replay each preset at every (prefill, decode) split of prod and dev; table in build/sizing/
	$(RUN) python -m demo_bench.sizing --env both --out build/sizing $(SIZING_ARGS)
