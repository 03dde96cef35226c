# frontend: the imgd-frontend program (the HTTP codec is in http/).

FRONTEND_OBJS := $(addprefix $(BUILD)/frontend/, main.o conn.o router.o \
	render.o jsonin.o filter.o pattern.o upload.o export.o events.o \
	reply.o upload_hdr.o router_alias.o tls.o router_trust.o streams.o \
	router_copy.o router_unpack.o router_project.o metrics.o jw.o)

$(BUILD)/bin/imgd-frontend: $(FRONTEND_OBJS) $(HTTP_CODEC_OBJS) \
    $(BUILD)/policy/child.o $(BUILD)/policy/timefmt.o $(BUILD)/policy/arch.o \
    $(BUILD)/policy/sig.o \
    $(BUILD)/policy/lxdapi.o $(SANDBOX_OBJS) \
    $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_EVENT) -levent_openssl \
	    $(LIB_JANSSON) $(LIB_SSL) $(LIB_SECCOMP) $(LIB_CAP)
BINS += $(BUILD)/bin/imgd-frontend

$(BUILD)/tests/test_pattern: $(BUILD)/tests/unit/test_pattern.o \
    $(BUILD)/frontend/pattern.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TEST_BINS += $(BUILD)/tests/test_pattern

$(BUILD)/fuzz/fuzz_filter: tests/fuzz/fuzz_filter.c frontend/filter.c \
    frontend/pattern.c frontend/pattern.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ljansson
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_filter

# The list renderer against the tree renderer (frontend/render.c).
$(BUILD)/tests/test_render: $(BUILD)/tests/unit/test_render.o \
    $(BUILD)/frontend/render.o $(BUILD)/frontend/jw.o \
    $(BUILD)/policy/lxdapi.o $(BUILD)/policy/timefmt.o $(HTTP_CODEC_OBJS) \
    $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_JANSSON) $(LIB_SSL)
TEST_BINS += $(BUILD)/tests/test_render
