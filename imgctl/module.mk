# imgctl: the command-line client (see the top-level Makefile).
# Pure parts (formatting, tables, YAML, filters, names) are linked into
# the unit tests; the HTTP codec comes from http/.

IMGCTL_LIB_OBJS := $(addprefix $(BUILD)/imgctl/, opts.o fmt.o table.o \
	schema.o yamlout.o yamlin.o filter.o expname.o progress.o) \
	$(BUILD)/policy/names.o $(BUILD)/policy/timefmt.o \
	$(BUILD)/policy/lxdapi.o $(BUILD)/ipc/codec.o \
	$(BUILD)/ipc/msgtab.o \
	$(BUILD)/ipc/log.o
IMGCTL_OBJS := $(IMGCTL_LIB_OBJS) $(addprefix $(BUILD)/imgctl/, main.o \
	client.o api.o image.o props.o edit.o import.o export.o alias.o copy.o \
	trust.o remote.o unpack.o project.o audit.o)

$(BUILD)/bin/imgctl: $(IMGCTL_OBJS) $(HTTP_CODEC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_JANSSON) $(LIB_YAML) $(LIB_SSL)
BINS += $(BUILD)/bin/imgctl

# Unit tests of the pure parts.
IMGCTL_TESTS := $(addprefix $(BUILD)/tests/, test_imgctl_table \
	test_imgctl_fmt test_imgctl_yaml test_imgctl_filter \
	test_imgctl_names test_imgctl_args)
$(IMGCTL_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o \
    $(IMGCTL_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_JANSSON) $(LIB_YAML)
TEST_BINS += $(IMGCTL_TESTS)
