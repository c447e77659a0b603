# Two commands: `make run` serves the demo, `make test` runs the whole suite. Both set everything up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The demo is served over plain http on 127.0.0.1: cookies cannot carry the Secure flag there.
RUN_ENV ?= development

.PHONY: run test install translations chromium messages clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

translations: install
	$(BIN)/pybabel compile -d intranet/translations

# No client address or browser in the access log: with the time of a POST they would name the author of
# an anonymous question (docs/security/anonymity.md).
ACCESS_LOG_FORMAT = %(t)s "%(r)s" %(s)s %(b)s %(M)sms

run: translations
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	INTRANET_ENV=$(RUN_ENV) $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 1 --worker-class gthread \
		--threads 64 --timeout 0 --access-logfile - --access-logformat '$(ACCESS_LOG_FORMAT)' wsgi:app

# Browser tests use Debian's Chromium; a Playwright browser download cannot work on an offline intranet.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "Chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; \
	fi

test: translations chromium $(BIN)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

# Extract new strings and merge them into the catalogues (then translate the empty msgstr in vi).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--ignore-dirs='.* _* .venv build tests examples' -o intranet/translations/messages.pot .
	$(BIN)/pybabel update -i intranet/translations/messages.pot -d intranet/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) build *.egg-info
