# Harness self-test: never finishes; the harness must kill the guest at the
# timeout and report this test failed without losing the tests after it.
sleep 100000
