# tests/bats/helpers.bash: setup shared by the host-side bats tests.
# `load helpers` puts the freshly built tools first on PATH.
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export PATH="$TOP/build/default/bin:$PATH"
