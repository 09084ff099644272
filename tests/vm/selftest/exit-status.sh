# Harness self-test: a failing exit status must fail the test.
exit 3
