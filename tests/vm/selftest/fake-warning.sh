# Harness self-test: exits 0 but leaves a WARNING splat on the console;
# the harness must report this test as failed.
echo "WARNING: CPU: 0 PID: 1 at fs/scoutfs/selftest.c:1 fake_splat+0x0/0x10" > /dev/kmsg
echo "Call Trace:" > /dev/kmsg
exit 0
