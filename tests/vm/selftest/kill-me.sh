# Harness self-test of --disk-file, --disk-file-snapshot, --env and
# --kill-after: writes the word --env gave it at the start of /dev/vda
# (an image that keeps the guest's writes) and /dev/vdb (a snapshot that
# discards them), with O_DIRECT so the writes reach qemu at once, then
# waits for the power cut.
echo "word: $SELFTEST_WORD"
for d in /dev/vda /dev/vdb; do
	printf '%s\n' "$SELFTEST_WORD" |
		dd of=$d bs=4096 count=1 conv=sync oflag=direct status=none || exit 1
done
echo written
sleep 600
