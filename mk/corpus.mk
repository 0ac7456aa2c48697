# Corpus targets (owner: corpus curator). Included by the root Makefile.
CORPUS_DIR ?= build/corpus
CORPUS_PROD_DIR ?= build/corpus-prod
CORPUS_INPUTS := $(shell find apps/corpus-curator/src libs/demo-common/src -name '*.py' -o -name '*.yaml' 2>/dev/null)
CORPUS_UPLOAD_FLAGS := $(if $(DRY_RUN),--dry-run) $(if $(FORCE),--force)

.PHONY: corpus
corpus: install $(CORPUS_DIR)/_COMPLETE ## Build the offline corpus (Python's own docs, no network) into build/corpus/

# Rebuilt only when the curator or its configuration changed; an unchanged rebuild rewrites nothing.
$(CORPUS_DIR)/_COMPLETE: $(CORPUS_INPUTS)
	$(RUN) corpus-curator build --config offline --output $(CORPUS_DIR) --no-progress
	@touch $@

.PHONY: corpus-prod
corpus-prod: install ## Build the production corpus from Project Gutenberg into build/corpus-prod/ (internet once; cached)
	$(RUN) corpus-curator build --config gutenberg --output $(CORPUS_PROD_DIR)

.PHONY: corpus-upload
corpus-upload: install ## Upload build/corpus-prod/ to Spaces, skipping unchanged objects (DRY_RUN=1 plans only, FORCE=1 re-uploads)
	$(RUN) corpus-curator upload --config gutenberg --from $(CORPUS_PROD_DIR) $(CORPUS_UPLOAD_FLAGS)

.PHONY: corpus-check
corpus-check: install ## Check a corpus and print its sizes (CORPUS=build/corpus or s3://bucket/prefix)
	$(RUN) corpus-curator check $(or $(CORPUS),$(CORPUS_DIR))

.PHONY: corpus-bench
corpus-bench: install ## Time a full offline corpus build (stage durations in build/bench/corpus-build.json)
	$(RUN) corpus-curator build --config offline --output build/bench/corpus --no-progress --timings build/bench/corpus-build.json
	@cat build/bench/corpus-build.json
