# ipc: the message table, codec, channels and logging shared by every
# process.
IPC_OBJS := $(addprefix $(BUILD)/ipc/, log.o msgtab.o codec.o chan.o cause.o) \
	    $(BUILD)/policy/names.o

$(BUILD)/tests/test_ipc: $(BUILD)/tests/unit/test_ipc.o $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TEST_BINS += $(BUILD)/tests/test_ipc

$(BUILD)/fuzz/fuzz_ipc: tests/fuzz/fuzz_ipc.c ipc/msgtab.c ipc/codec.c \
    ipc/chan.c ipc/log.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_ipc
