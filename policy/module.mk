# policy: limits, sandbox entry (privilege drop, seccomp) for the children.
SANDBOX_OBJS := $(addprefix $(BUILD)/policy/, sandbox.o seccomp.o probe.o)

$(BUILD)/tests/test_sandbox: $(BUILD)/tests/unit/test_sandbox.o $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
TEST_BINS += $(BUILD)/tests/test_sandbox

# The policy file and the decision (policy/authz.c), used by the store.
AUTHZ_OBJS := $(addprefix $(BUILD)/policy/, authz.o yp.o msg.o)
$(BUILD)/tests/test_authz: $(BUILD)/tests/unit/test_authz.o $(AUTHZ_OBJS) \
    $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_YAML)
TEST_BINS += $(BUILD)/tests/test_authz
