# store: imgd, the privileged parent.
STORE_OBJS := $(addprefix $(BUILD)/store/, main.o proc.o proc_relay.o \
	proc_verify.o users.o config.o \
	blob.o db.o db_alias.o db_project.o project.o audit.o ops.o upload.o job.o api.o api_list.o \
	api_alias.o image.o logfwd.o peer.o access.o fault.o tls.o trust.o db_trust.o \
	fetch.o db_source.o unpack.o publish.o metrics.o hasher.o)

$(BUILD)/bin/imgd: $(STORE_OBJS) $(IPC_OBJS) $(BUILD)/policy/arch.o $(BUILD)/policy/timefmt.o \
    $(BUILD)/policy/yp.o $(BUILD)/policy/msg.o $(BUILD)/policy/sig.o \
    $(BUILD)/policy/authz.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_EVENT) $(LIB_SQLITE) \
	    $(LIB_JANSSON) $(LIB_CRYPTO) $(LIB_CAP) $(LIB_YAML)
BINS += $(BUILD)/bin/imgd

# The hashing thread alone, against openssl's one-shot digests.
$(BUILD)/tests/test_hasher: $(BUILD)/tests/unit/test_hasher.o \
    $(BUILD)/store/hasher.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_EVENT) $(LIB_CRYPTO)
TEST_BINS += $(BUILD)/tests/test_hasher
