# policy: limits, sandbox entry (privilege drop, seccomp) for the children.
SANDBOX_OBJS := $(addprefix $(BUILD)/policy/, sandbox.o seccomp.o probe.o)

$(BUILD)/tests/test_sandbox: $(BUILD)/tests/unit/test_sandbox.o $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TEST_BINS += $(BUILD)/tests/test_sandbox
