# The Docker Compose stack's targets, included by the main Makefile (`include docker/compose.mk`),
# which defines PYTHON, BIN and STAMP. The engine check runs first, with the system Python and
# nothing but the standard library, so `make up` on a machine without Docker answers at once with
# one sentence (what is missing, and the command that installs it) instead of first installing .venv.

DOCKER_STACK_CHECK := $(PYTHON) -m stedi.targets.docker
WORKERS ?= 1

.PHONY: up smoke docker-engine base-image docker-down docker-status docker-pipeline

up: ## start the Docker stack (LocalStack S3, a Glue Data Catalog API, a Spark cluster, Trino) on 127.0.0.1 (WORKERS=1)
	@$(DOCKER_STACK_CHECK) check-engine
	@$(MAKE) --no-print-directory $(STAMP)
	@$(BIN)/python -m stedi.targets.docker up --workers $(WORKERS)

smoke: ## check the running Docker stack end to end (Spark writes an Iceberg table, Trino reads it)
	@$(DOCKER_STACK_CHECK) check-engine
	@$(MAKE) --no-print-directory $(STAMP)
	@$(BIN)/python -m stedi.targets.docker smoke

docker-engine: ## as root on Debian: install docker.io, build the Compose plugin (pinned) and start dockerd
	@bash docker/engine/install.sh

base-image: ## build the stack's Debian base from Debian's packages (debootstrap; `make up` does it when Docker Hub is out of reach)
	@$(DOCKER_STACK_CHECK) base-image

docker-down: ## stop the Docker stack if it runs and remove its containers, network and volumes; `make down` calls it
	@$(DOCKER_STACK_CHECK) down --if-up

docker-status: ## show the Docker stack's services and their health
	@$(DOCKER_STACK_CHECK) status

docker-pipeline: ## run the five jobs on the Docker stack's Spark cluster (LANDING= POLICY= SUMMARY=)
	@$(DOCKER_STACK_CHECK) check-engine
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/stedi pipeline --target docker --policy $(POLICY) $(if $(LANDING),--landing $(LANDING)) $(if $(SUMMARY),--summary $(SUMMARY))
