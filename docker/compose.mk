# The Docker Compose stack's targets, included by the main Makefile (`include docker/compose.mk`),
# which defines PYTHON, BIN and STAMP. The engine check runs first, with the system Python and
# nothing but the standard library, so `make up` on a machine without Docker answers at once with
# one sentence instead of first installing .venv.

DOCKER_STACK_CHECK := $(PYTHON) -m stedi.targets.docker

.PHONY: up down-volumes smoke docker-down docker-status docker-pipeline

up: ## start the Docker stack (LocalStack S3, a Glue Data Catalog API, Spark, Trino) on 127.0.0.1
	@$(DOCKER_STACK_CHECK) check-engine
	@$(MAKE) --no-print-directory $(STAMP)
	@$(BIN)/python -m stedi.targets.docker up

smoke: ## check the running Docker stack end to end (Spark writes an Iceberg table, Trino reads it)
	@$(DOCKER_STACK_CHECK) check-engine
	@$(MAKE) --no-print-directory $(STAMP)
	@$(BIN)/python -m stedi.targets.docker smoke

down-volumes: ## stop the Docker stack and delete any volume Compose made for it
	@$(DOCKER_STACK_CHECK) down --volumes

docker-down: ## stop the Docker stack if it runs; `make down` calls it
	@$(DOCKER_STACK_CHECK) down --if-up

docker-status: ## show the Docker stack's services and their health
	@$(DOCKER_STACK_CHECK) status

docker-pipeline: ## run the five jobs in the Docker stack's Spark container (LANDING= POLICY= SUMMARY=)
	@$(DOCKER_STACK_CHECK) check-engine
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/stedi pipeline --target docker --policy $(POLICY) $(if $(LANDING),--landing $(LANDING)) $(if $(SUMMARY),--summary $(SUMMARY))
