# Makefile fragment for phpize builds: cargo builds the extension, the result goes to
# modules/reverb_rs.so with a minimal libtool .la so `make install` and `make test` find it.

REVERB_RS_PROFILE = release
TESTS = tests/phpt
REVERB_RS_TARGET = $(builddir)/target

.PHONY: reverb-rs-cargo

$(phplibdir)/reverb_rs.la: reverb-rs-cargo

# Always ask cargo: it knows the real dependency graph and does nothing when up to date.
reverb-rs-cargo:
	PHP_CONFIG="$(REVERB_RS_PHP_CONFIG)" PHP="$(REVERB_RS_PHP)" $(CARGO) build --locked --$(REVERB_RS_PROFILE) \
		-p reverb-rs --manifest-path "$(srcdir)/Cargo.toml" --target-dir "$(REVERB_RS_TARGET)"
	@$(mkinstalldirs) $(phplibdir)
	cp "$(REVERB_RS_TARGET)/$(REVERB_RS_PROFILE)/libreverb_rs.so" $(phplibdir)/reverb_rs.so
	printf "dlname='reverb_rs.so'\nlibrary_names='reverb_rs.so'\n" > $(phplibdir)/reverb_rs.la
