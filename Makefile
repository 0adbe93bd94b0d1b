# STEDI lakehouse. `make pipeline` and `make test` install what they need on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

POLICY  ?= strict
LANDING ?=
SUMMARY ?=
SCALES  ?= 1x,10x,100x

.DEFAULT_GOAL := help
.PHONY: help install jars keys pipeline run report glue-run land forget bench bench-gates bench-auth bench-queries bench-docker trino trino-stop trino-status deploy run-aws forget-aws destroy docs test down discard status query generate fetch-udacity vendor-datadocs lock lock-jars clean

include docker/compose.mk

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0] + ": set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

install: $(STAMP) ## create .venv with the pinned dependencies (once)

jars: $(STAMP) ## resolve the Iceberg jars of jvm/pom.xml from Maven Central and check them against jvm/jars.lock
	$(BIN)/python -m stedi.runtime.jvm resolve

pipeline: $(STAMP) ## run the landing step and the five jobs on the target, skipping what did not change (TARGET= LANDING= POLICY= SUMMARY= FULL=1: every step)
	$(BIN)/stedi pipeline --policy $(POLICY) $(if $(TARGET),--target $(TARGET)) $(if $(LANDING),--landing $(LANDING)) $(if $(SUMMARY),--summary $(SUMMARY)) $(if $(FULL),--full)

run: $(STAMP) ## re-run one job and the jobs downstream of it on the published tables, after editing its file (JOB=)
	@test -n "$(JOB)" || { echo 'name the job: make run JOB=machine_learning_curated' >&2; exit 2; }
	$(BIN)/stedi run $(JOB) $(if $(filter command line environment,$(origin POLICY)),--policy $(POLICY))

report: $(STAMP) ## write the run report of the last pipeline run: build/report/index.html (make pipeline writes it too)
	$(BIN)/stedi report

glue-run: $(STAMP) ## run AWS Glue (Studio) scripts unchanged on the embedded stack (SCRIPT="a.py b.py" ARGS="--JOB_NAME x --KEY V")
	@test -n "$(SCRIPT)" || { echo 'name the script: make glue-run SCRIPT=glue_jobs/customer_landing_to_trusted.py [ARGS="--KEY VALUE"]' >&2; exit 2; }
	$(BIN)/stedi glue run $(SCRIPT) $(ARGS)

land: $(STAMP) ## upload a directory to the embedded stack's S3, the bucket made on first use (DIR=my-data TO=s3://my-bucket/)
	@test -n "$(DIR)" -a -n "$(TO)" || { echo 'make land DIR=my-data TO=s3://my-bucket/prefix/' >&2; exit 2; }
	$(BIN)/stedi land '$(DIR)' '$(TO)'

forget: $(STAMP) ## erase people from every table, snapshot and object, then prove it (EMAIL=a@b.com or FILE=emails.txt; VERIFY=1 only proves)
	@test -n "$(EMAIL)$(FILE)" || { echo 'make forget EMAIL=person@example.com (or FILE=emails.txt, one a line) [VERIFY=1]' >&2; exit 2; }
	$(BIN)/stedi forget $(if $(EMAIL),--email '$(EMAIL)') $(if $(FILE),--file '$(FILE)') $(if $(VERIFY),--verify)

bench: $(STAMP) ## the pipeline (Spark's Iceberg catalog, the pyiceberg bridge) against DuckDB at 1x/10x/100x: build/bench/ (RUNS=3 SCALES=1x,10x,100x)
	$(BIN)/python -m stedi.tools.bench scale --runs $(or $(RUNS),3) --scales $(SCALES)

bench-gates: $(STAMP) ## what the quality gates cost: the pipeline with and without them, side by side (RUNS=3)
	$(BIN)/python -m stedi.tools.bench gates --runs $(or $(RUNS),3)

bench-auth: $(STAMP) ## what IAM enforcement costs a call: the stack's emulator against moto without IAM, side by side (RUNS=5)
	$(BIN)/python -m stedi.tools.bench auth --runs $(or $(RUNS),5)

bench-queries: $(STAMP) ## stedi query on DuckDB and on the native Trino, side by side, and Trino's start time and memory (RUNS=5)
	$(BIN)/python -m stedi.tools.bench queries --runs $(or $(RUNS),5)

bench-docker: $(STAMP) ## the Docker stack against the embedded one, side by side: make up's time, the pipeline, memory per container (RUNS=3 WORKERS=1)
	$(BIN)/python -m stedi.tools.bench_docker --runs $(or $(RUNS),3) --workers $(WORKERS)

trino: $(STAMP) ## start the embedded stack's Trino 476 (Athena's dialect, catalog awsdatacatalog) on 127.0.0.1
	$(BIN)/stedi trino start

trino-stop: $(STAMP) ## stop the embedded stack's Trino (make down stops it too)
	$(BIN)/stedi trino stop

trino-status: $(STAMP) ## whether the embedded stack's Trino runs, where, and on which Java
	$(BIN)/stedi trino status

deploy: $(STAMP) ## create or update the lakehouse on AWS (PLAN=1: only show; FORCE=1 LANDING= POLICY= VPC_ID= ROUTE_TABLE_ID=)
	$(BIN)/python -m stedi.aws deploy $(if $(PLAN),--plan) $(if $(FORCE),--force) $(if $(LANDING),--landing '$(LANDING)') \
	  $(if $(filter command line environment,$(origin POLICY)),--policy $(POLICY)) \
	  $(if $(VPC_ID),--vpc-id $(VPC_ID)) $(foreach id,$(ROUTE_TABLE_ID),--route-table-id $(id))

run-aws: $(STAMP) ## run the five Glue jobs, then the quality gates, on AWS in order and wait for each (POLICY= overrides the deployed one)
	$(BIN)/python -m stedi.aws run $(if $(filter command line environment,$(origin POLICY)),--policy $(POLICY))

forget-aws: $(STAMP) ## erase people on AWS with the deployed erasure Glue job, under its own role (EMAIL= or FILE=)
	@test -n "$(EMAIL)$(FILE)" || { echo 'make forget-aws EMAIL=person@example.com (or FILE=emails.txt, one a line)' >&2; exit 2; }
	$(BIN)/python -m stedi.aws forget $(if $(EMAIL),--email '$(EMAIL)') $(if $(FILE),--file '$(FILE)')

destroy: $(STAMP) ## remove everything the deploy created, found by its tags (PLAN=1: only list it)
	$(BIN)/python -m stedi.aws destroy $(if $(PLAN),--plan)

docs: $(STAMP) ## open the Data Docs of the last pipeline run's quality gates (build/data-docs/index.html)
	$(BIN)/stedi docs $(if $(TARGET),--target $(TARGET))

# Headless Chromium renders the offline Data Docs in the tests (Debian's package).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
/usr/bin/chromium:
	@command -v apt-get >/dev/null || { echo "the tests need Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium)" >&2; exit 1; }
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null

test: $(STAMP) /usr/bin/chromium ## run the whole test suite
	$(BIN)/pytest

# Without SQL= or FILE=, the validation queries: one count per table, over every zone.
VALIDATION_QUERIES := catalog/athena/validation_queries.sql
query: $(STAMP) ## Athena SQL on the target's stack (SQL="SELECT ..." or FILE=file.sql; neither: a count per table of every zone; FORMAT=text|csv|json, TARGET=, ENGINE=duckdb|trino)
	$(BIN)/stedi query $(if $(TARGET),--target $(TARGET)) $(if $(ENGINE),--engine $(ENGINE)) $(if $(FORMAT),--format $(FORMAT)) $(if $(FILE),--file '$(FILE)',$(if $(value SQL),'$(subst ','\'',$(value SQL))',--file $(VALIDATION_QUERIES)))

down: $(STAMP) docker-down ## stop the embedded stack, its lakehouse kept on disk (and the Docker stack if it runs)
	$(BIN)/stedi down --target embedded

discard: $(STAMP) ## stop the embedded stack and delete its lakehouse on disk (asks first; YES=1 does not)
	$(BIN)/stedi discard $(if $(YES),--yes)

keys: $(STAMP) ## the embedded stack's keys as shell variables: eval "$$(make -s keys)" (GLUE_JOB=1: the jobs' identity)
	@$(BIN)/stedi keys $(if $(GLUE_JOB),--glue-job)

status: $(STAMP) ## show whether the target's stack runs, and where (TARGET=)
	$(BIN)/stedi status $(if $(TARGET),--target $(TARGET))

generate: $(STAMP) ## write synthetic landing data (CUSTOMERS=1000 SEED=42 OUT=build/landing)
	$(BIN)/stedi generate --customers $(or $(CUSTOMERS),1000) --seed $(or $(SEED),42) --out $(or $(OUT),build/landing)

fetch-udacity: $(STAMP) ## download and verify the Udacity starter data (DEST=build/udacity-starter)
	$(BIN)/stedi fetch-udacity $(or $(DEST),build/udacity-starter)

lock: ## re-pin requirements.lock from pyproject.toml in a scratch environment
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --upgrade pip
	build/lock-venv/bin/pip install --quiet -e '.[test]'
	{ echo '# Exact versions of every dependency (pip freeze of a clean install of pyproject.toml + [test]).'; \
	  echo '# Regenerate with: make lock'; \
	  build/lock-venv/bin/pip freeze --exclude-editable; } > requirements.lock
	rm -rf build/lock-venv

lock-jars: $(STAMP) ## re-resolve jvm/pom.xml and jvm/trino/pom.xml with Maven and rewrite their locks from the downloaded files
	$(BIN)/python -m stedi.runtime.jvm lock

vendor-datadocs: ## re-fetch the offline Data Docs assets from npm and verify their checksums
	scripts/vendor_datadocs_assets.sh

clean: ## remove build output (keeps .venv and the embedded stack)
	rm -rf build .pytest_cache
