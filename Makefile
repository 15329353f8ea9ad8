# Minh Bạch. `make demo` builds the bundled data and serves it; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DB     ?= db/minhbach.db
PORT   ?= 8001
HOST   ?= 127.0.0.1
WORKERS ?= 2
SOURCE ?=
FILE   ?=
FORCE  ?=

.PHONY: demo demo-db serve test test-fast ingest install fixture snapshot nightly bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[crawl,serve,test]'
	touch $@

install: $(VENV)/.installed

demo: demo-db serve

demo-db: install
	$(PY) -m ingest --db $(DB) demo

# Written aside and renamed: two instances started at once never read the other's half-written file.
$(DB).inspect.json: $(DB) | $(VENV)/bin/datasette
	$(VENV)/bin/datasette inspect $(DB) --inspect-file $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

# Gunicorn (datasette-gunicorn) runs WORKERS processes of Datasette on one port: one Python process
# uses one core at most, and a record page at 1M rows is CPU-bound (bench/README.md).
# Every Datasette option (metadata, plugins, settings, CORS) comes from db/serving.py, as everywhere else.
# Gunicorn's control socket defaults to one path per user ($$XDG_RUNTIME_DIR/gunicorn.ctl): each
# instance gets its own private directory (mktemp -d: mode 0700), removed when it stops.
# Serving needs the virtualenv, not a reinstall: a fresh clone gets it, but an edited pyproject.toml
# does not make `make serve` recreate it and pip-install before serving (two instances started at once
# did so into the same .venv, and none answered in time); `make install` or `make demo` update it.
$(VENV)/bin/datasette:
	$(MAKE) --no-print-directory install

serve: $(DB).inspect.json | $(VENV)/bin/datasette
	run=$$(mktemp -d -t minhbach-gunicorn.XXXXXX) && trap 'rm -rf "$$run"' EXIT INT TERM && \
	XDG_RUNTIME_DIR=$$run $(VENV)/bin/datasette gunicorn -w $(WORKERS) -i $(DB) --inspect-file $(DB).inspect.json \
	  $(shell $(PY) -m db.serving) --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

# A quick answer: all but the tests marked `browser` (Chromium) or `slow`, on every core (pytest-xdist;
# each worker builds its own demo database).
test-fast: install
	$(PY) -m pytest -q -n auto -m "not slow and not browser"

# Live ingest of every source, or one source from a saved response or received file:
#   make ingest SOURCE=gb_fsa_prosecutions FILE=path/to/prosecutions.csv [FORCE=1]
ingest: install
	$(PY) -m ingest --db $(DB) run $(SOURCE)$(if $(FILE),=$(abspath $(FILE))) $(if $(FORCE),--force)

# Save a live response as a sample (on a machine with internet): make fixture SOURCE=us_cpsc_recalls
# Only for sources read from one plain GET; `make fixture` alone lists them, and says why not for the others.
fixture: install
	@url=$$($(PY) -m scrapers.fixture "$(SOURCE)") && \
	$(VENV)/bin/scrapy fetch --nolog "$$url" > samples/$(SOURCE).new && \
	echo "saved samples/$(SOURCE).new: trim it to at most 50 records, then replace the sample"

# A dated, citable copy with its SHA-256 and a manifest (the nightly job runs it on the 1st).
snapshot: install
	$(PY) -m db --db $(DB) snapshot

# The nightly job (as cron and GitHub Actions run it): restore the published file from the durable
# store (MINHBACH_STORE_DIR, MINHBACH_S3_BUCKET, MINHBACH_RELEASE_TAG or MINHBACH_RESTORE_URL), verify,
# ingest every source, verify, upload; a snapshot on the 1st; deploy when MINHBACH_IMAGE is set.
nightly: install
	$(PY) deploy/nightly.py run --db $(DB)

clean:
	rm -f $(DB) $(DB).inspect.json

# N Datasette replicas of $(DB) behind nginx on $(HOST):$(PORT), rolling swap on each publish (README: Running at scale).
N ?= 2
.PHONY: replicas replicas-stop
replicas: install
	$(PY) deploy/replicas.py start --n $(N) --db $(DB) --host $(HOST) --port $(PORT)

replicas-stop:
	$(PY) deploy/replicas.py stop

# Benchmarks (about 10 minutes, synthetic data in bench/data/): prints the table, writes bench/results.json.
bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/run.py
