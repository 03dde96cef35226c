# tests: shared harness (tests/t.h); unit tests are declared by the folder
# they test; fuzz targets are built with clang and libFuzzer.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
