dnl config.m4 for the reverb_rs extension: phpize && ./configure && make && make install.
dnl The extension is a Rust crate; this file only finds the tools and hands the build to cargo
dnl through Makefile.frag, so phpize, PECL and PIE drive it like any other extension.

PHP_ARG_ENABLE([reverb_rs],
  [whether to enable reverb_rs],
  [AS_HELP_STRING([--enable-reverb_rs], [Enable the reverb_rs WebSocket server extension])],
  [yes])

PHP_ARG_WITH([cargo],
  [path to cargo],
  [AS_HELP_STRING([--with-cargo=PATH], [The cargo binary to build with (default: from PATH or ~/.cargo/bin)])],
  [no], [no])

if test "$PHP_REVERB_RS" != "no"; then
  if test "$PHP_CARGO" != "no" && test "$PHP_CARGO" != "yes"; then
    CARGO="$PHP_CARGO"
  else
    AC_PATH_PROG([CARGO], [cargo], [no], [$PATH:$HOME/.cargo/bin])
  fi
  if test "$CARGO" = "no" || test ! -x "$CARGO"; then
    AC_MSG_ERROR([cargo was not found. reverb_rs is written in Rust: install Rust 1.85 or later (https://rustup.rs, or your distribution's rustc and cargo packages) and run ./configure again, or pass --with-cargo=/path/to/cargo.])
  fi

  AC_MSG_CHECKING([for libclang (needed to generate the PHP bindings)])
  REVERB_RS_LIBCLANG=no
  for dir in $LIBCLANG_PATH /usr/lib/llvm-*/lib /usr/lib64/llvm*/lib /usr/lib /usr/lib64 /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/local/lib; do
    if ls "$dir"/libclang*.so* >/dev/null 2>&1; then
      REVERB_RS_LIBCLANG="$dir"
      break
    fi
  done
  if test "$REVERB_RS_LIBCLANG" = "no"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([libclang was not found. Install it (Debian/Ubuntu: apt-get install libclang-dev; Fedora: dnf install clang-devel; Alpine: apk add clang-dev) or set LIBCLANG_PATH to the directory holding libclang.so.])
  fi
  AC_MSG_RESULT([$REVERB_RS_LIBCLANG])

  dnl ext-php-rs needs absolute paths; phpize's configure may pass the bare name "php-config".
  REVERB_RS_PHP_CONFIG=`command -v "$PHP_CONFIG"`
  REVERB_RS_PHP=`"$REVERB_RS_PHP_CONFIG" --php-binary`

  PHP_SUBST(CARGO)
  PHP_SUBST(REVERB_RS_PHP_CONFIG)
  PHP_SUBST(REVERB_RS_PHP)
  PHP_MODULES="\$(phplibdir)/reverb_rs.la"
  PHP_ADD_BUILD_DIR([modules])
  PHP_ADD_MAKEFILE_FRAGMENT([$abs_srcdir/Makefile.frag], [$abs_srcdir], [$abs_builddir])
fi
