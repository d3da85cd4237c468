# Sourced by the benchmark scripts: one build command for all of them, so that no feature
# set differs between them and nothing is built twice. In debug it is exactly scripts/test's
# build (a no-op after it); DRKIT_BENCH_RELEASE=1 builds release. Sets $bin_dir.
if [ -n "${DRKIT_BENCH_RELEASE:-}" ]; then
  cargo build --release --locked -p terraform-provider-dr -p drkit-testkit -p drkit-drill --bins --examples >&2
  bin_dir="${CARGO_TARGET_DIR:-target}/release"
else
  cargo build --locked --workspace --all-targets >&2
  bin_dir="${CARGO_TARGET_DIR:-target}/debug"
fi
