# UI targets (owner: ui). The React app in apps/load-generator/ui is built with Node.js >= 20 and
# npm from its lockfile into ui/dist, which the load generator app serves at `/`.
UI_DIR := apps/load-generator/ui
UI_STAMP := $(UI_DIR)/node_modules/.package-lock.json
UI_INPUTS := $(shell find $(UI_DIR)/src -type f 2>/dev/null) \
  $(addprefix $(UI_DIR)/,index.html package.json package-lock.json vite.config.ts tsconfig.json)
NODE_HELP := Node.js >= 20 and npm are needed to build the UI: on Debian/Ubuntu use NodeSource \
  (https://github.com/nodesource/distributions) or nvm (https://github.com/nvm-sh/nvm); on macOS: brew install node@20.

.PHONY: ui-node
ui-node:
	@command -v npm >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
	  || { echo "$(NODE_HELP)" >&2; exit 1; }

# npm ci rewrites node_modules/.package-lock.json: a stamp newer than the lockfile.
$(UI_STAMP): $(UI_DIR)/package-lock.json $(UI_DIR)/package.json | ui-node
	cd $(UI_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UI_DIR)/dist/index.html: $(UI_INPUTS) $(UI_STAMP)
	cd $(UI_DIR) && npm run --silent build

.PHONY: ui
ui: $(UI_DIR)/dist/index.html ## Build the UI into apps/load-generator/ui/dist when missing or stale (prints the bundle size)

.PHONY: ui-api
ui-api: install $(UI_STAMP) ## Regenerate the UI's API types from the app's OpenAPI schema (commit the result)
	$(RUN) python $(UI_DIR)/scripts/dump_openapi.py $(UI_DIR)/openapi.json
	cd $(UI_DIR) && npx --no-install openapi-typescript openapi.json -o src/api/schema.d.ts

.PHONY: ui-lint
ui-lint: install $(UI_STAMP) ## Type-check the UI and check its generated API types are fresh
	cd $(UI_DIR) && npx --no-install tsc --noEmit
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	  $(RUN) python $(UI_DIR)/scripts/dump_openapi.py $$tmp/openapi.json && \
	  (cd $(UI_DIR) && npx --no-install openapi-typescript $$tmp/openapi.json -o $$tmp/schema.d.ts >/dev/null) && \
	  diff -u $(UI_DIR)/openapi.json $$tmp/openapi.json && diff -u $(UI_DIR)/src/api/schema.d.ts $$tmp/schema.d.ts \
	  || { echo "UI API types are stale: run 'make ui-api' and commit" >&2; exit 1; }

.PHONY: ui-test
ui-test: $(UI_STAMP) ## UI unit tests (vitest)
	cd $(UI_DIR) && npx --no-install vitest run

.PHONY: ui-system-deps
ui-system-deps: ## Install Debian's Chromium (browser tests) and ffmpeg (make record) if missing
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/ffmpeg ]; } || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium ffmpeg; }

.PHONY: test-browser
test-browser: install ui ## Browser tests only (Playwright driving /usr/bin/chromium against the real local stack)
	$(RUN) pytest -q -ra -m browser apps/load-generator/tests/browser $(PYTEST_ARGS)

# The demo serves the built UI; lint and test cover it too.
demo: ui
lint: ui-lint
test: ui ui-test
system-deps: ui-system-deps

.PHONY: record
record: install system-deps corpus ui ## Fallback video of one auto cycle of the audience view into build/record/ (ENV, SPEED; URL= records a running app)
	$(RUN) python $(UI_DIR)/scripts/record.py --env $(ENV) --speed $(SPEED) --out build/record $(if $(URL),--url $(URL))
