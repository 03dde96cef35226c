# fetcher: the sandboxed downloader (idle until remote sources land).
FETCHER_OBJS := $(BUILD)/fetcher/main.o

$(BUILD)/bin/imgd-fetcher: $(FETCHER_OBJS) $(BUILD)/policy/child.o \
    $(SANDBOX_OBJS) $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_SECCOMP) $(LIB_CAP)
BINS += $(BUILD)/bin/imgd-fetcher
