# reverb-rs: build the PHP extension, run the demo, run every test.
#
#   make demo   set up, build, and serve the demo chat (http://127.0.0.1:8000, WebSocket on :8080)
#   make test   set up, build, and run all tests

EXTENSION := target/release/libreverb_rs.so
PHP := php -d extension=$(CURDIR)/$(EXTENSION)

.PHONY: deps build demo test test-engine test-php test-e2e test-python lint

deps:
	@scripts/install-deps.sh

build: deps
	cargo build --release --locked
	@echo "Built $(EXTENSION)"

demo: build
	@scripts/demo.sh

test: build test-engine test-php test-python test-e2e

test-engine:
	cargo test --workspace --locked

test-php:
	$(PHP) /usr/bin/phpunit --colors=never

test-python:
	REVERB_RS_EXTENSION=$(CURDIR)/$(EXTENSION) python3 -m unittest discover -s tests/python -v

test-e2e:
	REVERB_RS_EXTENSION=$(CURDIR)/$(EXTENSION) node --test tests/e2e/ tests/browser/

lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
