# tests: shared harness (tests/t.h); unit tests are declared by the folder
# they test; fuzz targets are built with clang and libFuzzer.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

# A preload that plays a compromised frontend (tests/integration/contract.sh).
$(BUILD)/tests/forge_listener.so: tests/integration/forge_listener.c ipc/msg.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -I. -O2 -shared -fPIC -o $@ $< -ldl
TEST_BINS += $(BUILD)/tests/forge_listener.so

# A preload that makes sendfile fail (imgctl's fallback, imgctl.sh).
$(BUILD)/tests/no_sendfile.so: tests/integration/no_sendfile.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -shared -fPIC -o $@ $<
TEST_BINS += $(BUILD)/tests/no_sendfile.so

$(BUILD)/tests/test_harness: $(BUILD)/tests/unit/test_harness.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TEST_BINS += $(BUILD)/tests/test_harness
