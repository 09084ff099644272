# Harness self-test: a clean test that passes (exit 0, quiet console).
grep -qw scoutfs /proc/filesystems
