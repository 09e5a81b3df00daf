# The two set-up commands: `make demo` and `make test`. Both install what they need.
CARGO  ?= cargo
PYTHON ?= python3
VENV   := .venv
MOTO   := $(VENV)/bin/moto_server
MOTO_VERSION := 5.2.5

.PHONY: test demo moto lint

## The local AWS emulator (moto server) in a git-ignored venv.
moto: $(MOTO)
$(MOTO):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "moto[server]==$(MOTO_VERSION)"

## Every test: unit, property, macro UI and emulator tests, and the README's examples
## (the `mocks` one needs the feature).
## The emulator installs (network-bound) while the tests compile (CPU-bound).
test:
	@$(MAKE) --no-print-directory moto & install=$$!; \
	$(CARGO) test --workspace --features ecs-kit/mocks --no-run; built=$$?; \
	wait $$install || { echo "installing the emulator (make moto) failed" >&2; exit 1; }; \
	[ $$built -eq 0 ] || exit $$built; \
	ECS_KIT_MOTO_SERVER=$(abspath $(MOTO)) $(CARGO) test --workspace --features ecs-kit/mocks

## The product-web example against a local AWS emulator: synth, plan, apply, plan, destroy.
demo:
	MAKE="$(MAKE)" bash scripts/demo.sh

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
