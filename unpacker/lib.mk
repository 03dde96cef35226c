# unpacker/lib.mk: the image validation library (validate.h) that the
# sandboxed unpacker links, its unit tests and its fuzz targets.

UNPACKER_LIB_SRCS := policy/arch.c policy/msg.c unpacker/ustr.c \
		     unpacker/pathidx.c unpacker/entry.c unpacker/archive.c \
		     unpacker/validate.c policy/yp.c unpacker/metadata.c \
		     unpacker/squashfs.c
UNPACKER_LIB_OBJS := $(UNPACKER_LIB_SRCS:%.c=$(BUILD)/%.o)

UNPACKER_TESTS := $(BUILD)/tests/test_metadata $(BUILD)/tests/test_archive \
		  $(BUILD)/tests/test_entries
TEST_BINS += $(UNPACKER_TESTS)

$(BUILD)/tests/test_metadata: $(BUILD)/tests/unit/test_metadata.o \
	$(UNPACKER_LIB_OBJS)
$(BUILD)/tests/test_archive: $(BUILD)/tests/unit/test_archive.o \
	$(BUILD)/tests/unit/tarmk.o $(UNPACKER_LIB_OBJS)
$(BUILD)/tests/test_entries: $(BUILD)/tests/unit/test_entries.o \
	$(BUILD)/tests/unit/tarmk.o $(UNPACKER_LIB_OBJS)

$(UNPACKER_TESTS):
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_ARCHIVE) $(LIB_YAML) \
	    $(LIB_SQUASHFS)

UNPACKER_FUZZ := $(BUILD)/fuzz/fuzz_metadata $(BUILD)/fuzz/fuzz_archive
FUZZ_TARGETS += $(UNPACKER_FUZZ)

$(UNPACKER_FUZZ): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
	$(UNPACKER_LIB_SRCS) $(wildcard unpacker/*.h) policy/limits.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -larchive -lyaml \
	    -lsquashfs
