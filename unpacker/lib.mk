# unpacker/lib.mk: the image validation library (validate.h) that the
# sandboxed unpacker links, its unit tests and its fuzz targets.

UNPACKER_LIB_SRCS := policy/arch.c policy/msg.c unpacker/ustr.c \
		     unpacker/pathidx.c unpacker/entry.c unpacker/archive.c \
		     unpacker/validate.c policy/yp.c unpacker/metadata.c \
		     unpacker/squashfs.c unpacker/extract.c \
		     unpacker/pack.c
# The image writer of imgctl publish (pack.h), in the same library: the
# unpacker runs it in pack mode. filter-out: pack.c may be listed above.
PACK_SRCS := unpacker/pack.c unpacker/pack_walk.c
UNPACKER_LIB_SRCS := $(filter-out $(PACK_SRCS),$(UNPACKER_LIB_SRCS)) \
		     $(PACK_SRCS)
# Image templates (unpacker/tpl.h): the pongo2 renderer.
TPL_SRCS := unpacker/tpl_lex.c unpacker/tpl_parse.c unpacker/tpl_tags.c \
	    unpacker/tpl_expr.c unpacker/tpl_scope.c unpacker/tpl_eval.c \
	    unpacker/tpl_render.c unpacker/tpl_ctx.c unpacker/tpl_value.c \
	    unpacker/tpl_math.c unpacker/tpl_filter.c unpacker/tpl_filter2.c \
	    unpacker/tpl_utf8.c unpacker/tpl_mem.c
UNPACKER_LIB_SRCS += $(TPL_SRCS)
UNPACKER_LIB_OBJS := $(UNPACKER_LIB_SRCS:%.c=$(BUILD)/%.o)

UNPACKER_TESTS := $(BUILD)/tests/test_metadata $(BUILD)/tests/test_archive \
		  $(BUILD)/tests/test_entries $(BUILD)/tests/test_extract \
		  $(BUILD)/tests/test_tpl
TEST_BINS += $(UNPACKER_TESTS)

$(BUILD)/tests/test_metadata: $(BUILD)/tests/unit/test_metadata.o \
	$(UNPACKER_LIB_OBJS)
$(BUILD)/tests/test_archive: $(BUILD)/tests/unit/test_archive.o \
	$(BUILD)/tests/unit/tarmk.o $(UNPACKER_LIB_OBJS)
$(BUILD)/tests/test_entries: $(BUILD)/tests/unit/test_entries.o \
	$(BUILD)/tests/unit/tarmk.o $(UNPACKER_LIB_OBJS)

$(BUILD)/tests/test_extract: $(BUILD)/tests/unit/test_extract.o \
	$(BUILD)/tests/unit/tarmk.o $(BUILD)/unpacker/render.o \
	$(UNPACKER_LIB_OBJS)

$(BUILD)/tests/test_tpl: $(BUILD)/tests/unit/test_tpl.o $(UNPACKER_LIB_OBJS)

$(UNPACKER_TESTS):
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_ARCHIVE) $(LIB_YAML) \
	    $(LIB_SQUASHFS)

UNPACKER_FUZZ := $(BUILD)/fuzz/fuzz_metadata $(BUILD)/fuzz/fuzz_archive \
		 $(BUILD)/fuzz/fuzz_tpl
FUZZ_TARGETS += $(UNPACKER_FUZZ)

$(UNPACKER_FUZZ): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
	$(UNPACKER_LIB_SRCS) $(wildcard unpacker/*.h) policy/limits.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -larchive -lyaml \
	    -lsquashfs


# pack.h's unit test: --wrap=read lets it change a file while it is read.
TEST_BINS += $(BUILD)/tests/test_pack
$(BUILD)/tests/test_pack: $(BUILD)/tests/unit/test_pack.o $(UNPACKER_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -Wl,--wrap=read -o $@ $^ $(LIB_ARCHIVE) \
	    $(LIB_YAML) $(LIB_SQUASHFS)
