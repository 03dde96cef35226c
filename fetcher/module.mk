# fetcher: one sandboxed download per process (libcurl over OpenSSL for
# HTTPS, c-ares for names, jansson for the remotes' JSON).
FETCHER_OBJS := $(addprefix $(BUILD)/fetcher/, main.o net.o proto.o sig.o)
LIB_CURL	:= -lcurl
LIB_CARES	:= -lcares

$(BUILD)/bin/imgd-fetcher: $(FETCHER_OBJS) $(BUILD)/policy/child.o \
    $(BUILD)/policy/arch.o $(BUILD)/policy/sig.o $(SANDBOX_OBJS) $(IPC_OBJS) $(HTTP_CODEC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_CURL) $(LIB_CARES) $(LIB_JANSSON) \
	    $(LIB_SSL) $(LIB_SECCOMP) $(LIB_CAP)
BINS += $(BUILD)/bin/imgd-fetcher
