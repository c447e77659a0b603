# Two commands: `make run` serves the demo, `make test` runs the whole suite. Both set everything up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The demo is served over plain http on 127.0.0.1: cookies cannot carry the Secure flag there.
RUN_ENV ?= development

.PHONY: run test test-setup lint install translations test-packages messages clean vendor-precall

# Set-up steps write their output to .venv/setup.log and show it only when they fail: `make run` ends
# with the demo accounts, not with pages of pip and alembic.
QUIETLY = > $(VENV)/setup.log 2>&1 || { cat $(VENV)/setup.log; exit 1; }

$(BIN)/.installed: pyproject.toml
	@echo "Installing into $(VENV) (the first time takes a few minutes)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip $(QUIETLY)
	@$(BIN)/python -m pip install -q -e . $(QUIETLY)
	@touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	@echo "Installing the test tools into $(VENV)..."
	@$(BIN)/python -m pip install -q -e '.[test]' $(QUIETLY)
	@touch $@

install: $(BIN)/.installed

translations: install
	@$(BIN)/pybabel --quiet compile -d intranet/translations $(QUIETLY)

run: translations
	@$(BIN)/flask --app wsgi db upgrade $(QUIETLY)
	@$(BIN)/flask --app wsgi seed-demo
	@INTRANET_ENV=$(RUN_ENV) INTRANET_BIND=127.0.0.1:$(PORT) $(BIN)/gunicorn -c intranet/gunicorn_conf.py wsgi:app

# Servers and the browser the tests drive for real, from Debian's packages: Chromium (a Playwright
# browser download cannot work on an offline intranet), Pushpin (the production push engine) and nginx
# (deploy/nginx/intranet.conf), OpenLDAP's slapd and tools (the directory sign-in's tests run their own
# slapd on a loopback port; the package's own service is not used). Installed when run as root; otherwise
# their tests skip, saying why.
TEST_PACKAGES := chromium pushpin nginx libreoffice-writer-nogui fonts-liberation2 coturn slapd ldap-utils
test-packages:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "Missing:" $$missing "(sudo apt-get install" $$missing"); their tests will be skipped"; fi; \
	fi

# The browser tests' Jitsi stand-in speaks Jitsi's own postMessage transport: @jitsi/js-utils from npm,
# bundled at build time into the test folder (never into the app's static files).
STAND_IN := tests/e2e/jitsi_stand_in
# Without npm (or a registry it reaches) the browser tests that need the stand-in are skipped, saying so.
$(STAND_IN)/vendor/jitsi-transport.js: $(STAND_IN)/package.json $(STAND_IN)/transport_entry.js
	@if ! command -v npm >/dev/null; then echo "npm is missing: the browser tests of the Jitsi room will be skipped"; exit 0; fi; \
	mkdir -p build/jitsi-stand-in && cp $(STAND_IN)/package.json $(STAND_IN)/transport_entry.js build/jitsi-stand-in/ && \
	cd build/jitsi-stand-in && npm install --no-audit --no-fund --silent && \
		node_modules/.bin/esbuild transport_entry.js --bundle --format=iife --global-name=JitsiTransport \
		--log-level=warning --outfile=$(CURDIR)/$@ || echo "npm could not build the Jitsi stand-in's transport: its browser tests will be skipped"

# The room page's pre-call test through the office's TURN server: @jitsi/precall-test from npm, bundled
# with its licence into the meetings plugin's static files and committed (like htmx and Pico), so the
# app runs without a network; this target rebuilds it after a version change in its package.json.
PRECALL_SRC := plugins/meetings/vendor_src
PRECALL_OUT := plugins/meetings/static/meetings/vendor
PRECALL_PKG := build/precall/node_modules/@jitsi/precall-test
vendor-precall:
	rm -rf build/precall && mkdir -p build/precall && cp $(PRECALL_SRC)/package.json $(PRECALL_SRC)/precall_entry.js build/precall/
	cd build/precall && npm install --no-audit --no-fund --silent
	@# 1.0.6's loss test calls setTimeout(this.send(message), 8): it sends at once and hands setTimeout
	@# undefined, which the browser evaluates as code (a no-op our CSP blocks and reports). The patch keeps
	@# the sending as it is, without that eval; the build stops if a new version changed the line.
	grep -q 'setTimeout(this.send(message), 8);' $(PRECALL_PKG)/src/tests/lossTest.js
	sed -i 's/setTimeout(this.send(message), 8);/this.send(message);/' $(PRECALL_PKG)/src/tests/lossTest.js
	cd build/precall && node_modules/.bin/esbuild precall_entry.js --bundle --format=iife --minify --legal-comments=none \
		--log-level=warning --outfile=$(CURDIR)/$(PRECALL_OUT)/precall-test.min.js
	cp $(PRECALL_PKG)/LICENSE $(PRECALL_OUT)/precall-test.LICENSE
	printf '/* @jitsi/precall-test %s, Apache-2.0 (precall-test.LICENSE), its loss test patched not to eval (Makefile); rebuilt by `make vendor-precall` */\n' \
		"$$(node -p 'require("./$(PRECALL_PKG)/package.json").version')" \
		| cat - $(PRECALL_OUT)/precall-test.min.js > build/precall/out.js && mv build/precall/out.js $(PRECALL_OUT)/precall-test.min.js

test-setup: translations test-packages $(BIN)/.installed-test $(STAND_IN)/vendor/jitsi-transport.js

test: test-setup
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff, as configured in pyproject.toml: `$(BIN)/ruff format .` and `$(BIN)/ruff check --fix .` mend most of it.
lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Extract new strings and merge them into the catalogues (then translate the empty msgstr in vi).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--ignore-dirs='.* _* .venv build tests examples' -o intranet/translations/messages.pot .
	$(BIN)/pybabel update -i intranet/translations/messages.pot -d intranet/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) build *.egg-info
